/** Fault injection: what the SDK sees, what the stats record, and reproducibility from a seed. */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/emulator/faults.ts';
import { listenEmulator } from './helpers.ts';

/** A seed whose first draw falls under `rate` and whose second does not: fail once, then pass. */
function seedFailingOnce(rate: number): number {
  for (let seed = 0; ; seed += 1) {
    const random = mulberry32(seed);
    if (random() < rate && random() >= rate) return seed;
  }
}

describe('faults', () => {
  it('a 429 with Retry-After makes the SDK wait, retry and succeed; stats count both attempts', async () => {
    const { emulator, baseURL } = await listenEmulator();
    emulator.setFaults({ rateLimitRate: 0.5, retryAfterSeconds: 1, seed: seedFailingOnce(0.5) });
    const client = new OpenAI({ apiKey: 'k', baseURL, maxRetries: 2 });
    const started = performance.now();
    const page = await client.vectorStores.list();
    expect(page.data).toEqual([]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);

    const stats = emulator.stats();
    expect(stats.total).toBe(2);
    expect(stats.byRoute).toEqual({ 'GET /v1/vector_stores': 2 });
    expect(stats.requests.map((request) => request.status)).toEqual([429, 200]);
  });

  it('a reset surfaces as APIConnectionError, and every attempt is counted', async () => {
    const { emulator, baseURL } = await listenEmulator();
    emulator.setFaults({ routes: { 'POST /v1/vector_stores': { resetRate: 1 } } });
    const client = new OpenAI({ apiKey: 'k', baseURL, maxRetries: 1 });
    const error = await client.vectorStores.create({ name: 'x' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(emulator.stats().requests).toEqual([
      { method: 'POST', route: 'POST /v1/vector_stores', path: '/v1/vector_stores', status: null },
      { method: 'POST', route: 'POST /v1/vector_stores', path: '/v1/vector_stores', status: null },
    ]);
    // Other routes are unaffected by a route rule.
    expect((await client.vectorStores.list()).data).toEqual([]);
    expect(emulator.inspect().vectorStores).toBe(0);
  });

  it('injects 5xx with the server_error envelope', async () => {
    const { emulator, client } = await listenEmulator();
    emulator.setFaults({ errorRate: 1, errorStatus: 503 });
    const error = await client.vectorStores.list().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error).toMatchObject({ status: 503, type: 'server_error' });
    emulator.setFaults(null);
    expect((await client.vectorStores.list()).data).toEqual([]);
  });

  it('fails one object through a path rule while its siblings on the same route go through', async () => {
    const { emulator, client, api } = await listenEmulator();
    const [a, b] = [await client.vectorStores.create({ name: 'a' }), await client.vectorStores.create({})];
    emulator.setFaults({ paths: { [`GET /v1/vector_stores/${a.id}`]: { errorRate: 1, errorStatus: 503 } } });
    await expect(client.vectorStores.retrieve(a.id)).rejects.toMatchObject({ status: 503 });
    expect((await client.vectorStores.retrieve(b.id)).id).toBe(b.id);
    const refused = await api('/__emulator/faults', { method: 'POST', json: { paths: { '/v1/files': {} } } });
    expect(refused.status).toBe(400);
  });

  it('records the most requests in flight at once per API key', async () => {
    const { emulator, baseURL } = await listenEmulator();
    emulator.setFaults({ latencyMs: 100 });
    const a = new OpenAI({ apiKey: 'sk-key-aaaaaaaa', baseURL, maxRetries: 0 });
    const b = new OpenAI({ apiKey: 'sk-key-bbbbbbbb', baseURL, maxRetries: 0 });
    await Promise.all([
      a.vectorStores.list(),
      a.vectorStores.list(),
      a.vectorStores.list(),
      b.vectorStores.list(),
    ]);
    await a.vectorStores.list();
    expect(emulator.stats().maxInFlight).toEqual({ aaaaaaaa: 3, bbbbbbbb: 1 });
  });

  it('is reproducible from the seed', async () => {
    const { emulator, api } = await listenEmulator();
    const run = async (seed: number): Promise<number[]> => {
      emulator.setFaults({ errorRate: 0.5, seed });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i += 1) statuses.push((await api('/vector_stores')).status);
      return statuses;
    };
    const first = await run(42);
    expect(await run(42)).toEqual(first);
    expect(first).toContain(500);
    expect(first).toContain(200);
    expect(await run(7)).not.toEqual(first);
  });

  it('adds latency with jitter', async () => {
    const { emulator, api } = await listenEmulator();
    emulator.setFaults({ latencyMs: 80, jitterMs: 40 });
    const started = performance.now();
    expect((await api('/vector_stores')).status).toBe(200);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(75);
    expect(elapsed).toBeLessThan(1000);
  });

  it('stalls before headers or mid-body, and close() still returns promptly', async () => {
    const { emulator, baseURL, api } = await listenEmulator();
    emulator.setFaults({ stall: 'headers' });
    const client = new OpenAI({ apiKey: 'k', baseURL, maxRetries: 0, timeout: 200 });
    await expect(client.vectorStores.list()).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);

    emulator.setFaults({ stall: 'body' });
    const response = await api('/vector_stores', { signal: AbortSignal.timeout(300) });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect(emulator.stats().requests.map((request) => request.status)).toEqual([null, null]);

    const hanging = api('/vector_stores').then(
      () => 'answered',
      () => 'dropped',
    );
    const started = performance.now();
    await emulator.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await hanging).toBe('dropped');
  });

  it('is steered over the HTTP control plane, which is neither authenticated nor counted', async () => {
    const { origin, api } = await listenEmulator();
    const control = (path: string, body?: unknown) =>
      fetch(`${origin}/__emulator/${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    expect(
      (await control('faults', { routes: { 'GET /v1/vector_stores': { errorRate: 1, errorStatus: 502 } } }))
        .status,
    ).toBe(200);
    expect((await api('/vector_stores')).status).toBe(502);
    const typo = await control('faults', { routes: { 'GET /v1/vector_store': { errorRate: 1 } } });
    expect(typo.status).toBe(400);
    expect((await control('faults', { errorRate: 2 })).status).toBe(400);
    expect((await control('faults', {})).status).toBe(200);
    expect((await api('/vector_stores')).status).toBe(200);

    expect(await (await control('processing', { delayMs: 1000, hold: true })).json()).toEqual({
      delayMs: 1000,
      hold: true,
    });
    await api('/vector_stores', { method: 'POST', json: { name: 'a' } });
    expect(await (await control('inspect')).json()).toEqual({
      files: 0,
      vectorStores: 1,
      storedBytes: 0,
      uploadsInFlight: 0,
      openUploads: 0,
      uploadPartBytes: 0,
    });
    const stats = (await (await control('stats')).json()) as {
      total: number;
      byRoute: Record<string, number>;
    };
    expect(stats.total).toBe(3);
    expect(stats.byRoute).toEqual({ 'GET /v1/vector_stores': 2, 'POST /v1/vector_stores': 1 });

    expect((await control('reset', {})).status).toBe(200);
    expect(await (await control('inspect')).json()).toMatchObject({ vectorStores: 0 });
    expect(await (await control('stats')).json()).toEqual({
      total: 0,
      byRoute: {},
      requests: [],
      maxInFlight: {},
      inFlight: {},
    });
    expect(await (await control('processing', {})).json()).toEqual({ delayMs: 0, hold: false });
  });
});
