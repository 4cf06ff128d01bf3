import type { Plugin } from 'graphql-yoga';
import { ROUTES } from './routes.ts';

/**
 * yoga always answers health checks at the endpoint it is given (`healthCheckEndpoint`), matching
 * any URL that ends with it; health is served here at exact paths instead, so yoga 5.24's own is
 * given an endpoint no URL can end with (a URL never ends with a space).
 */
export const BUILT_IN_HEALTH_CHECK_OFF = ' ';

export interface Lifecycle {
  /** `/health`: the process answers. `/ready`: it takes new work (503 while draining). */
  health: Plugin;
  /** Counts the operations executing. */
  inFlight: Plugin;
  /** From now on `/ready` answers 503, so load balancers send new work elsewhere. */
  drain(): void;
  /** Resolves once no operation is executing, or after `timeoutMs`; true when none was left. */
  idle(timeoutMs: number): Promise<boolean>;
}

/**
 * The process's life as the edge sees it. Operations are counted so a process that stops can
 * wait for them: a mutation whose client was cut off at shutdown still cleans up what it created
 * upstream (the files it uploaded) before the process exits. Streamed results (subscriptions) are
 * counted until they end; draining ends them.
 */
export function useLifecycle(): Lifecycle {
  let ready = true;
  let running = 0;
  let waiters: Array<() => void> = [];
  const done = () => {
    running--;
    if (running > 0) return;
    for (const wake of waiters) wake();
    waiters = [];
  };
  return {
    health: {
      onRequest({ url, endResponse, fetchAPI }) {
        if (url.pathname === ROUTES.health) {
          endResponse(fetchAPI.Response.json({ status: 'ok' }));
        } else if (url.pathname === ROUTES.ready) {
          const status = { status: ready ? 'ready' : 'draining' };
          endResponse(fetchAPI.Response.json(status, { status: ready ? 200 : 503 }));
        }
      },
    },
    inFlight: {
      onExecute() {
        running++;
        return {
          onExecuteDone({ result }) {
            if (Symbol.asyncIterator in result) return { onEnd: done };
            done();
            return undefined;
          },
        };
      },
    },
    drain() {
      ready = false;
    },
    idle(timeoutMs) {
      if (running === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    },
  };
}
