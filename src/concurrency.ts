import pLimit from 'p-limit';

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
