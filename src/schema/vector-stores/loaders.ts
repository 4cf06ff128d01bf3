import DataLoader from 'dataloader';
import type { Upstream, VectorStore } from '../../upstream/index.ts';
import { type NaiveLoading, nullIfMissing, settleAll } from '../loading.ts';

/** OpenAI has no batch read for stores: the loader's worth is dedupe and priming from lists. */
export function createVectorStoreLoader(
  upstream: Upstream,
  naive?: NaiveLoading,
): DataLoader<string, VectorStore | null> {
  return new DataLoader(
    (ids) => settleAll(ids.map((id) => nullIfMissing(upstream.retrieveVectorStore(id)))),
    naive,
  );
}
