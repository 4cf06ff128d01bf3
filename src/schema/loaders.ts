import type DataLoader from 'dataloader';
import type { FileBatch, FileObject, Upstream, VectorStore, VectorStoreFile } from '../upstream/index.ts';
import { createFileBatchLoader } from './file-batches/loaders.ts';
import { createFileLoader } from './files/loaders.ts';
import type { NaiveLoading } from './loading.ts';
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
  /**
   * One read of a list page (or a search) per request for the same arguments, however many
   * fields ask for it (aliases, a subscription's subscribers sharing one state's loaders), made
   * through the loaders' own upstream.
   */
  read<T>(key: readonly unknown[], call: (upstream: Upstream) => Promise<T>): Promise<T>;
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
  const reads = new Map<string, Promise<unknown>>();
  return {
    read<T>(key: readonly unknown[], call: (through: Upstream) => Promise<T>): Promise<T> {
      if (naive) return call(upstream);
      const id = JSON.stringify(key);
      let pending = reads.get(id) as Promise<T> | undefined;
      if (!pending) {
        pending = call(upstream);
        reads.set(id, pending);
        // A failed read is not kept: a later field may ask again.
        pending.catch(() => reads.delete(id));
      }
      return pending;
    },
    vectorStore,
    vectorStoreFile: createVectorStoreFileLoader(upstream, vectorStore, naive),
    fileBatch: createFileBatchLoader(upstream, naive),
    file: createFileLoader(upstream, naive),
  };
}
