import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { turnOf } from '../concurrency.ts';
import { UpstreamError } from './errors.ts';

/**
 * Waits for one of a vector store's attach writes of the minute. OpenAI limits them per store
 * whoever sends them, so the key is the store (on its upstream), not the credential. A wait
 * longer than `maxWaitSeconds` is not waited: the call fails as a 429 would, saying when.
 */
export async function storeWriteTurn(
  writes: RateLimiterAbstract,
  store: { baseURL: string; vectorStoreId: string },
  maxWaitSeconds: number,
  signal?: AbortSignal | null,
): Promise<void> {
  const key = `${store.baseURL}|${store.vectorStoreId}`;
  const refusedMs = await turnOf(writes, key, maxWaitSeconds * 1000, signal);
  if (refusedMs === 0) return;
  const seconds = Math.ceil(refusedMs / 1000);
  throw new UpstreamError(
    'RATE_LIMITED',
    `The store takes at most ${writes.points} attach writes a minute. Retry after ${seconds} s.`,
    { retryAfterSeconds: seconds },
  );
}
