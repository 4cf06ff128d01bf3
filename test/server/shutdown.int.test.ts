import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../support/server-process.ts';

/**
 * A load balancer learns the gateway is going away from `/ready`: after SIGTERM the process keeps
 * accepting connections for SHUTDOWN_READY_DELAY_MS, answering `/ready` 503 and still serving
 * the requests that arrive meanwhile, then stops listening and exits.
 */

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

describe('shutdown', () => {
  it('answers /ready 503 while draining, serves requests meanwhile, then exits', async () => {
    const server = await startServer({ SHUTDOWN_GRACE_MS: '6000', SHUTDOWN_READY_DELAY_MS: '1500' });
    stop = () => server.stop();
    const base = server.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/ready`)).status).toBe(200);

    const exited = server.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'draining' });
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const query = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ vectorStores(first: 1) { nodes { id } } }' }),
    });
    expect(query.status).toBe(200);
    const body = await query.text();
    expect(JSON.parse(body).data, body).toMatchObject({ vectorStores: {} });

    const started = Date.now();
    await exited;
    // It exits once the delay is over and nothing is left in flight, well within the grace.
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });
});
