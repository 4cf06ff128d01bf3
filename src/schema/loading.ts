/** What every loader is built from: batch scheduling, null for the missing, errors per key. */
import type DataLoader from 'dataloader';
import { type Upstream, UpstreamError } from '../upstream/index.ts';

export type NaiveLoading = { batch: false; cache: false } | undefined;

/** How long a detail loader waits for sibling upstream calls before it dispatches anyway. */
const MAX_BATCH_WAIT_MS = 25;

/** Batch scheduling for loaders whose keys come from the rows of several lists at once. */
export function afterSiblingCalls(upstream: Upstream) {
  return (dispatch: () => void) => {
    void upstream.settled(MAX_BATCH_WAIT_MS).then(dispatch);
  };
}

/** Primes a loader with the objects of a list, so a later lookup of one of them costs nothing. */
export function primeWith<K, V>(loader: DataLoader<K, V | null>, keyOf: (value: V) => K) {
  return (values: readonly V[]): void => {
    for (const value of values) loader.prime(keyOf(value), value);
  };
}

/** A lookup by a well-formed id that does not exist is null, not an error. */
export async function nullIfMissing<T>(lookup: Promise<T>): Promise<T | null> {
  try {
    return await lookup;
  } catch (error) {
    if (error instanceof UpstreamError && error.code === 'NOT_FOUND') return null;
    throw error;
  }
}

/** Settles every lookup so one failed key fails only its own field (DataLoader takes Errors per key). */
export function settleAll<T>(lookups: Array<T | Promise<T>>): Promise<Array<T | Error>> {
  return Promise.all(
    lookups.map((lookup) =>
      Promise.resolve(lookup).catch((error: unknown) =>
        error instanceof Error ? error : new Error(String(error)),
      ),
    ),
  );
}
