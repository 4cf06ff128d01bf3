import type { Plugin } from 'graphql-yoga';
import {
  type Access,
  type AccessControl,
  type AccessPolicy,
  bearerToken,
  createAccessControl,
  type HeaderReader,
  secretMatcher,
} from '../access.ts';
import type { UpstreamClient, UpstreamClients } from '../upstream/index.ts';
import { refusalResponse } from './refusal.ts';
import { isApiPath, ROUTES } from './routes.ts';
import { OPERATION_PARAMS } from './use-persisted-operations.ts';

/**
 * Any of these shows the request was preflighted, or sent by a client that cannot be a plain
 * cross-site form: yoga's, Apollo's, and the GraphQL-over-HTTP style.
 */
export const PREFLIGHT_HEADERS = [
  'x-graphql-yoga-csrf',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'graphql-preflight',
] as const;

/** Content types a browser sends cross-site without a CORS preflight. */
const SIMPLE_CONTENT_TYPES = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
  '',
]);

/**
 * A request a browser could send from another site without a preflight: a GET that runs an
 * operation (by its text, or by a persisted id alone), or a POST with a "simple" content type (multipart uploads included). It must carry a
 * preflight header. Checked before the body is read, since an upload's body is parsed by the
 * gateway itself, outside yoga's own CSRF check.
 */
export function isUnpreflightedCrossSiteRequest(request: Request, url: URL): boolean {
  if (PREFLIGHT_HEADERS.some((name) => request.headers.has(name))) return false;
  if (request.method === 'GET' || request.method === 'HEAD') {
    return OPERATION_PARAMS.some((name) => url.searchParams.has(name));
  }
  const mediaType = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  return SIMPLE_CONTENT_TYPES.has(mediaType);
}

/** What the edge decided about a request before GraphQL runs: who calls, through which client. */
export interface Grant {
  access: Extract<Access, { granted: true }>;
  client: UpstreamClient;
}

export interface AccessPlugin {
  plugin: Plugin;
  /** The decision itself, for transports that do not run yoga's HTTP hooks. */
  decide: AccessControl;
  /**
   * Decides for `request` from credentials read elsewhere (a WebSocket's connection parameters)
   * and records the grant under it, as the HTTP hook does for a request it lets through.
   */
  admit(request: Request, header: HeaderReader): Access;
  /** The grant of a request that passed; the context factory builds on it. */
  grantOf(request: Request): Grant | undefined;
}

/**
 * The CSRF check and the access decision for every GraphQL request (and every download of a
 * File's content, under the same rules), as it arrives: a refused
 * request is answered before a byte of its body is read (an upload streams nothing).
 */
export function useAccess(policy: AccessPolicy, clients: UpstreamClients): AccessPlugin {
  const decide = createAccessControl(policy);
  const grants = new WeakMap<Request, Grant>();
  const admit = (request: Request, header: HeaderReader): Access => {
    const access = decide(header);
    if (!access.granted) return access;
    const client =
      access.credential === null ? clients.forCallerKey(access.callerKey) : clients.named(access.credential);
    grants.set(request, { access, client });
    return access;
  };
  const plugin: Plugin = {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!isApiPath(url.pathname) || request.method === 'OPTIONS') return;
      // A download changes nothing, so a cross-site one needs no preflight; a bearer token is
      // still required wherever tokens are, which a cross-site page cannot attach unaided.
      if (url.pathname === ROUTES.graphql && isUnpreflightedCrossSiteRequest(request, url)) {
        endResponse(
          refusalResponse(fetchAPI, request, {
            status: 403,
            code: 'CSRF_PREFLIGHT_REQUIRED',
            message:
              'This request could have been sent by another site: add a header such as `x-graphql-yoga-csrf: 1`, `apollo-require-preflight: true` or `graphql-preflight: 1`, or send JSON.',
          }),
        );
        return;
      }
      const access = admit(request, (name) => request.headers.get(name));
      if (!access.granted) {
        const headers: Record<string, string> = access.status === 401 ? { 'www-authenticate': 'Bearer' } : {};
        endResponse(refusalResponse(fetchAPI, request, { ...access, headers }));
      }
    },
  };
  return { plugin, decide, admit, grantOf: (request) => grants.get(request) };
}

/**
 * `/metrics` behind a token of its own when one is configured: operation names, error rates and
 * upstream outcomes are nobody else's business. Without one, the README asks to keep it private.
 */
export function useMetricsToken(token: string | undefined): Plugin {
  if (!token) return {};
  const matches = secretMatcher(token);
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== ROUTES.metrics) return;
      if (matches(bearerToken(request.headers.get('authorization')))) return;
      endResponse(
        refusalResponse(fetchAPI, request, {
          status: 401,
          code: 'UNAUTHENTICATED',
          message: 'The metrics need their token: send `Authorization: Bearer <metrics token>`.',
          headers: { 'www-authenticate': 'Bearer' },
        }),
      );
    },
  };
}
