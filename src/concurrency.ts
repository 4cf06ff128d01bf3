import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * The gateway's one concurrency primitive: at most `limit` tasks run at once, the others wait in
 * arrival order. A credential's upstream calls go through one (so a burst of clients cannot flood
 * a rate-limited upstream); a mutation's per-file work goes through a small one of its own.
 * Kept behind this interface so the limit can later adapt or be shared across processes.
 */
export interface ConcurrencyLimit {
  run<T>(task: () => PromiseLike<T> | T): Promise<T>;
  /** Tasks running now. */
  readonly active: number;
  /** Tasks waiting for a slot. */
  readonly waiting: number;
}

export function createConcurrencyLimit(limit: number): ConcurrencyLimit {
  const limiter = pLimit(limit);
  return {
    run: (task) => limiter(task),
    get active() {
      return limiter.activeCount;
    },
    get waiting() {
      return limiter.pendingCount;
    },
  };
}

/** `fn` over every item with at most `limit` running at once; results in item order. */
export function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  return pLimit(limit).map(items, fn);
}

/**
 * Waits for one of `key`'s points in a rate limiter's window (rate-limiter-flexible: in this
 * process, or in Redis across replicas). Resolves with 0 once it has one, or, without waiting,
 * with the wait in ms when that is longer than `maxWaitMs`. A counter that cannot be reached
 * (Redis away) lets the caller go rather than stop it.
 */
export async function turnOf(
  limiter: RateLimiterAbstract,
  key: string,
  maxWaitMs: number,
  signal?: AbortSignal | null,
): Promise<number> {
  for (;;) {
    let waitMs: number;
    try {
      await limiter.consume(key);
      return 0;
    } catch (refused) {
      if (!(refused instanceof RateLimiterRes)) return 0;
      waitMs = refused.msBeforeNext;
    }
    if (waitMs > maxWaitMs) return waitMs;
    await sleep(waitMs, undefined, signal ? { signal } : {});
  }
}
