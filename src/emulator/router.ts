/**
 * Route table and matching. Routes are declared as templates ("/v1/files/{file_id}") because the
 * template is also the key for per-route stats and faults. Path parameters are checked for their
 * id prefix here, once, so every handler receives well-formed ids (Files API routes excepted).
 */
import type { IncomingMessage } from 'node:http';
import type { Reply } from './http.ts';
import { ID_PREFIX } from './ids.ts';
import type { ListSettings } from './pagination.ts';
import type { EmulatorState } from './state.ts';
import { expectId } from './validation.ts';

export interface RouteContext {
  state: EmulatorState;
  settings: ListSettings & { maxStoredBytes: number; pollAfterMs: number | null };
  req: IncomingMessage;
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** The parsed JSON body, or undefined when the body is empty. */
  body(): Promise<unknown>;
  /** Records what a request sent besides JSON (a multipart form's fields), when requests are recorded. */
  note(sent: Record<string, unknown>): void;
}

export type Handler = (ctx: RouteContext) => Reply | Promise<Reply>;

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  template: string;
  handler: Handler;
  /**
   * The Files API's conventions (recorded in openai-dotnet FilesTests, 2026): a path id is looked
   * up as given, so a malformed one (`fake_id`) is simply unknown (404, not 400), and errors from
   * the handler carry a top-level `detail`.
   */
  filesApi?: boolean;
}

const PREFIX_BY_PARAM: Readonly<Record<string, string>> = {
  vector_store_id: ID_PREFIX.vectorStore,
  file_id: ID_PREFIX.file,
  batch_id: ID_PREFIX.fileBatch,
};

interface CompiledRoute extends Route {
  key: string;
  segments: string[];
}

export interface RouteMatch {
  route: CompiledRoute;
  params: Record<string, string>;
}

const isParam = (segment: string): boolean => segment.startsWith('{') && segment.endsWith('}');

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export class Router {
  private readonly routes: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.routes = routes.map((route) => ({
      ...route,
      key: routeKey(route.method, route.template),
      segments: route.template.split('/'),
    }));
  }

  keys(): string[] {
    return this.routes.map((route) => route.key);
  }

  match(method: string, path: string): RouteMatch | null {
    const segments = path.replace(/\/+$/, '').split('/');
    for (const route of this.routes) {
      if (route.method !== method || route.segments.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const matched = route.segments.every((expected, index) => {
        const actual = segments[index] ?? '';
        if (!isParam(expected)) return expected === actual;
        if (actual === '') return false;
        params[expected.slice(1, -1)] = decodeSegment(actual);
        return true;
      });
      if (matched) return { route, params };
    }
    return null;
  }
}

export const routeKey = (method: string, template: string): string => `${method} ${template}`;

/**
 * Throws the API's "Expected an ID that begins with ..." error for a malformed path id (400, as
 * reported for batch ids in openai/openai-node#1700). Files API routes skip the check: the real
 * API answers `GET /files/fake_id` with 404 "No such File object: fake_id".
 */
export function checkPathIds(route: Route, params: Readonly<Record<string, string>>): void {
  if (route.filesApi) return;
  for (const [name, value] of Object.entries(params)) {
    const prefix = PREFIX_BY_PARAM[name];
    if (prefix) expectId(value, name, prefix);
  }
}
