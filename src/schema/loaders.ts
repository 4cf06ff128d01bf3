import type DataLoader from 'dataloader';
import type { FileBatch, FileObject, Upstream, VectorStore, VectorStoreFile } from '../upstream/index.ts';
import { UpstreamError } from '../upstream/index.ts';
import { createFileBatchLoader } from './file-batches/loaders.ts';
import { createFileLoader } from './files/loaders.ts';
import { createVectorStoreFileLoader } from './vector-store-files/loaders.ts';
import { createVectorStoreLoader } from './vector-stores/loaders.ts';

/** Per request, and so per credential: a cache never serves one credential's objects to another. */
export interface Loaders {
  vectorStore: DataLoader<string, VectorStore | null>;
  /** Keyed `vs_...:file-...`. */
  vectorStoreFile: DataLoader<string, VectorStoreFile | null>;
  /** Keyed `vs_...:vsfb_...`. */
  fileBatch: DataLoader<string, FileBatch | null>;
  file: DataLoader<string, FileObject | null>;
}

/**
 * `batching: false` turns every loader into one upstream call per lookup, with no cache: the
 * naive resolver set, kept so the benchmark can show what batching saves.
 */
export interface LoaderOptions {
  batching: boolean;
}

export function createLoaders(upstream: Upstream, options: LoaderOptions = { batching: true }): Loaders {
  const naive: NaiveLoading = options.batching ? undefined : { batch: false, cache: false };
  const vectorStore = createVectorStoreLoader(upstream, naive);
  return {
    vectorStore,
    vectorStoreFile: createVectorStoreFileLoader(upstream, vectorStore, naive),
    fileBatch: createFileBatchLoader(upstream, naive),
    file: createFileLoader(upstream, naive),
  };
}

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
