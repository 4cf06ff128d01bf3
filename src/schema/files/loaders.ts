import DataLoader from 'dataloader';
import type { FileObject, Upstream } from '../../upstream/index.ts';
import { afterSiblingCalls, type NaiveLoading, nullIfMissing, settleAll } from '../loading.ts';

/** Up to this many files are fetched one by one; more are answered from one list call. */
const RETRIEVE_AT_MOST = 3;
/** `/files` answers up to 10,000 files in one page, so one call covers most projects. */
const LIST_LIMIT = 10_000;

/**
 * The details behind vector-store files (filename, bytes). OpenAI has no batch read, but one
 * `GET /files` answers a whole page of rows, and every later batch of the request reuses it; the
 * few files it does not cover (beyond the newest 10,000) are retrieved one by one.
 */
export function createFileLoader(
  upstream: Upstream,
  naive?: NaiveLoading,
): DataLoader<string, FileObject | null> {
  let listing: Promise<Map<string, FileObject>> | undefined;
  return new DataLoader(
    async (ids) => {
      if (!listing && ids.length <= RETRIEVE_AT_MOST) {
        return settleAll(ids.map((id) => nullIfMissing(upstream.retrieveFile(id))));
      }
      listing ??= upstream
        .listFiles({ limit: LIST_LIMIT, order: 'desc' })
        .then((page) => new Map(page.data.map((file) => [file.id, file])));
      let listed: Map<string, FileObject>;
      try {
        listed = await listing;
      } catch (error) {
        return ids.map(() => (error instanceof Error ? error : new Error(String(error))));
      }
      return settleAll(ids.map((id) => listed.get(id) ?? nullIfMissing(upstream.retrieveFile(id))));
    },
    naive ?? { batchScheduleFn: afterSiblingCalls(upstream) },
  );
}
