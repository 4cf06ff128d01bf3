import type { Plugin } from 'graphql-yoga';
import { ROUTES } from './routes.ts';

/**
 * yoga always answers health checks at the endpoint it is given (`healthCheckEndpoint`), matching
 * any URL that ends with it; health is served here at exact paths instead, so yoga 5.24's own is
 * given an endpoint no URL can end with (a URL never ends with a space).
 */
export const BUILT_IN_HEALTH_CHECK_OFF = ' ';

export interface Readiness {
  /** False once the process has begun to drain: load balancers should send work elsewhere. */
  readonly ready: boolean;
}

/** `/health`: the process answers. `/ready`: it takes new work (503 while draining). */
export function useHealth(readiness: Readiness): Plugin {
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname === ROUTES.health) {
        endResponse(fetchAPI.Response.json({ status: 'ok' }));
      } else if (url.pathname === ROUTES.ready) {
        const ready = readiness.ready;
        const status = { status: ready ? 'ready' : 'draining' };
        endResponse(fetchAPI.Response.json(status, { status: ready ? 200 : 503 }));
      }
    },
  };
}
