import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { Plugin } from 'graphql-yoga';
import { ROUTES } from './routes.ts';

export interface GraphiQLOptions {
  /** The query GraphiQL opens with. */
  defaultQuery?: string | undefined;
}

/**
 * GraphiQL for a browser that opens the endpoint (a GET asking for HTML). It is a static page,
 * rendered once from the package rather than a CDN, so it works offline; the operations it sends
 * carry the token like any other. Served here rather than by yoga's built-in, which matches any
 * path that ends with the endpoint's.
 */
export function useGraphiQL(options: GraphiQLOptions): Plugin {
  const page = renderGraphiQL({
    title: 'vector-store-gateway',
    defaultQuery: options.defaultQuery,
    // GraphiQL sends subscriptions as GETs unless told otherwise, which the CSRF check refuses.
    method: 'POST',
  });
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== ROUTES.graphql || request.method !== 'GET') return;
      if (!request.headers.get('accept')?.includes('text/html')) return;
      endResponse(new fetchAPI.Response(page, { headers: { 'content-type': 'text/html; charset=utf-8' } }));
    },
  };
}
