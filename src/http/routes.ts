import type { Plugin } from 'graphql-yoga';
import { refusalResponse } from './refusal.ts';

/**
 * Every path the gateway serves, matched exactly (after URL normalisation, so `/./graphql` is
 * `/graphql` and gets its checks, while `//graphql` and `/graphql/` are not found). Anything else
 * is answered 404 here, before any body is read or any other plugin sees the request.
 */
export const ROUTES = {
  graphql: '/graphql',
  health: '/health',
  ready: '/ready',
  metrics: '/metrics',
} as const;

const KNOWN: ReadonlySet<string> = new Set(Object.values(ROUTES));

/**
 * A File's bytes, next to `/graphql`: `/files/{file id}/content`, mirroring OpenAI's own path.
 * The id segment is one percent-encoded path segment; what it names is checked where it is served.
 */
const FILE_CONTENT = /^\/files\/([^/]+)\/content$/;

/** The path of a File's content on this gateway. */
export function fileContentPath(fileId: string): string {
  return `/files/${encodeURIComponent(fileId)}/content`;
}

/** The file id a content path names, undecoded; null when the path is not one. */
export function fileContentTarget(pathname: string): string | null {
  return FILE_CONTENT.exec(pathname)?.[1] ?? null;
}

/** GraphiQL's scripts and styles (http/use-graphiql.ts), named by a hash of their content. */
const GRAPHIQL_ASSET = /^\/graphiql\/([0-9a-f]{16}\.(?:js|css))$/;

export function graphiqlAssetPath(name: string): string {
  return `/graphiql/${name}`;
}

/** The asset a path names; null when the path is not one. */
export function graphiqlAssetTarget(pathname: string): string | null {
  return GRAPHIQL_ASSET.exec(pathname)?.[1] ?? null;
}

/** Whether a path is one of those that carry a caller's credentials (and so get access checks). */
export function isApiPath(pathname: string): boolean {
  return pathname === ROUTES.graphql || fileContentTarget(pathname) !== null;
}

export function useRoutes(): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (KNOWN.has(url.pathname) || fileContentTarget(url.pathname) !== null) return;
      if (graphiqlAssetTarget(url.pathname) !== null) return;
      endResponse(
        refusalResponse(fetchAPI, request, {
          status: 404,
          code: 'NOT_FOUND',
          message: `Nothing is served at this path; GraphQL is at ${ROUTES.graphql}.`,
        }),
      );
    },
  };
}
