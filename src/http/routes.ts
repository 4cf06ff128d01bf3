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

export function useRoutes(): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (KNOWN.has(url.pathname)) return;
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
