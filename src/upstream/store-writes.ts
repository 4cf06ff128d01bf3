import { setTimeout as sleep } from 'node:timers/promises';
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
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
  for (;;) {
    let waitMs: number;
    try {
      await writes.consume(key);
      return;
    } catch (refused) {
      // Anything but the counter's own refusal (its store unreachable) lets the write go.
      if (!(refused instanceof RateLimiterRes)) return;
      waitMs = refused.msBeforeNext;
    }
    if (waitMs > maxWaitSeconds * 1000) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new UpstreamError(
        'RATE_LIMITED',
        `The store takes at most ${writes.points} attach writes a minute. Retry after ${seconds} s.`,
        { retryAfterSeconds: seconds },
      );
    }
    await sleep(waitMs, undefined, signal ? { signal } : {});
  }
}
