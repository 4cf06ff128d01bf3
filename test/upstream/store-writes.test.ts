import { RateLimiterMemory } from 'rate-limiter-flexible';
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/upstream/index.ts';
import { storeWriteTurn } from '../../src/upstream/store-writes.ts';

const store = (vectorStoreId: string) => ({ baseURL: 'https://api.openai.com/v1', vectorStoreId });

describe("a vector store's attach writes of the minute", () => {
  it('lets a store have its writes, then waits for the next window; other stores go meanwhile', async () => {
    const writes = new RateLimiterMemory({ points: 2, duration: 1 });
    const started = Date.now();
    await storeWriteTurn(writes, store('vs_a'), 10);
    await storeWriteTurn(writes, store('vs_a'), 10);
    await storeWriteTurn(writes, store('vs_b'), 10);
    expect(Date.now() - started).toBeLessThan(500);
    await storeWriteTurn(writes, store('vs_a'), 10);
    // The third write to vs_a waited for the next one-second window.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('fails as a 429 would, saying when, rather than wait past the longest wait allowed', async () => {
    const writes = new RateLimiterMemory({ points: 1, duration: 60 });
    await storeWriteTurn(writes, store('vs_a'), 10);
    const refused = await storeWriteTurn(writes, store('vs_a'), 10).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UpstreamError);
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 60 });
    expect((refused as Error).message).toBe(
      'The store takes at most 1 attach writes a minute. Retry after 60 s.',
    );
  });

  it('stops waiting when its call is cancelled', async () => {
    const writes = new RateLimiterMemory({ points: 1, duration: 5 });
    await storeWriteTurn(writes, store('vs_a'), 10);
    const controller = new AbortController();
    const waiting = storeWriteTurn(writes, store('vs_a'), 10, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('keys each store on its upstream: the same id elsewhere is another store', async () => {
    const writes = new RateLimiterMemory({ points: 1, duration: 60 });
    await storeWriteTurn(writes, store('vs_a'), 0);
    await storeWriteTurn(writes, { baseURL: 'http://127.0.0.1:9/v1', vectorStoreId: 'vs_a' }, 0);
    await expect(storeWriteTurn(writes, store('vs_a'), 0)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });
});
