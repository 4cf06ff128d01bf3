/** At most `limit` holders at once; the others wait in arrival order. */
export function semaphore(limit: number): () => Promise<() => void> {
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return () => {
    if (active < limit) {
      active++;
      return Promise.resolve(release);
    }
    // The releasing holder hands its place over, so `active` stays as it is.
    return new Promise((resolve) => waiting.push(() => resolve(release)));
  };
}

/** `fn` over every item with at most `limit` running at once; results in item order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const acquire = semaphore(limit);
  return Promise.all(
    items.map(async (item, index) => {
      const release = await acquire();
      try {
        return await fn(item, index);
      } finally {
        release();
      }
    }),
  );
}
