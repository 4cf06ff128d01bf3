import DataLoader from 'dataloader';
import {
  OPENAI_LIMITS,
  type Upstream,
  type VectorStore,
  type VectorStoreFile,
  walkPages,
} from '../../upstream/index.ts';
import { encodeNestedId, splitNestedId } from '../ids.ts';
import { afterSiblingCalls, type NaiveLoading, nullIfMissing, settleAll } from '../loading.ts';

const LIST_PAGE_SIZE = OPENAI_LIMITS.listPage.max;

/**
 * The calls reading `files` files of one store costs when they are the store's newest (a payload
 * reading what was just attached): the store, then each file, or its newest pages until all are
 * found, whichever is fewer.
 */
export function storeFileReads(files: number): number {
  return 1 + Math.min(files, Math.ceil(files / LIST_PAGE_SIZE) + 1);
}

/**
 * Keys are grouped per store. When reading the store's file list costs fewer calls than one
 * retrieve per file (100 files a page, known from the store's `file_counts`), the list is paged
 * until every asked-for file is found.
 */
export function createVectorStoreFileLoader(
  upstream: Upstream,
  vectorStores: DataLoader<string, VectorStore | null>,
  naive?: NaiveLoading,
): DataLoader<string, VectorStoreFile | null> {
  const loader: DataLoader<string, VectorStoreFile | null> = new DataLoader(
    async (keys) => {
      const fileIdsByStore = new Map<string, Set<string>>();
      for (const key of keys) {
        const { vectorStoreId, ownId } = splitNestedId(key);
        const fileIds = fileIdsByStore.get(vectorStoreId) ?? new Set();
        fileIds.add(ownId);
        fileIdsByStore.set(vectorStoreId, fileIds);
      }
      const found = new Map<string, Promise<VectorStoreFile | null>>();
      await Promise.all(
        [...fileIdsByStore].map(async ([vectorStoreId, fileIds]) => {
          const listed = await listIfCheaper(vectorStoreId, fileIds).catch((error: unknown) => error);
          for (const fileId of fileIds) {
            const key = encodeNestedId(vectorStoreId, fileId);
            if (listed instanceof Map) found.set(key, Promise.resolve(listed.get(fileId) ?? null));
            else if (listed instanceof Error) found.set(key, Promise.reject(listed));
            else found.set(key, nullIfMissing(upstream.retrieveVectorStoreFile(vectorStoreId, fileId)));
          }
        }),
      );
      return settleAll(keys.map((key) => found.get(key) ?? Promise.resolve(null)));
    },
    naive ?? { batchScheduleFn: afterSiblingCalls(upstream) },
  );

  /** The store's files by id when listing is cheaper, or null to retrieve them one by one. */
  async function listIfCheaper(
    vectorStoreId: string,
    fileIds: ReadonlySet<string>,
  ): Promise<Map<string, VectorStoreFile | null> | null> {
    if (fileIds.size < 2) return null;
    const store = await vectorStores.load(vectorStoreId);
    if (!store) return new Map();
    // Listing costs the store's pages, plus the store itself: only when that is fewer calls.
    const pages = Math.ceil(store.file_counts.total / LIST_PAGE_SIZE);
    if (pages + 2 > fileIds.size) return null;
    const listed = new Map<string, VectorStoreFile | null>();
    let read = 0;
    const walk = walkPages((after) =>
      upstream.listVectorStoreFiles(vectorStoreId, { limit: LIST_PAGE_SIZE, order: 'desc', after }),
    );
    for await (const page of walk) {
      for (const file of page.data) {
        listed.set(file.id, file);
        loader.prime(encodeNestedId(vectorStoreId, file.id), file);
      }
      // One page more than the counts say, for files attached since they were read.
      if (++read > pages || [...fileIds].every((id) => listed.has(id))) break;
    }
    return listed;
  }

  return loader;
}
