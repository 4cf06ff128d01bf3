import DataLoader from 'dataloader';
import type { FileBatch, Upstream } from '../../upstream/index.ts';
import { splitNestedId } from '../ids.ts';
import { type NaiveLoading, nullIfMissing, settleAll } from '../loading.ts';

export function createFileBatchLoader(
  upstream: Upstream,
  naive?: NaiveLoading,
): DataLoader<string, FileBatch | null> {
  return new DataLoader(
    (keys) =>
      settleAll(
        keys.map((key) => {
          const { vectorStoreId, ownId } = splitNestedId(key);
          return nullIfMissing(upstream.retrieveFileBatch(vectorStoreId, ownId));
        }),
      ),
    naive,
  );
}
