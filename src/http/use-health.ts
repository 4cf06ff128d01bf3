import type { Plugin } from 'graphql-yoga';
import { ROUTES } from './routes.ts';

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
