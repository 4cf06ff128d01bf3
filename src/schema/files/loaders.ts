import DataLoader from 'dataloader';
import type { FileObject, Upstream } from '../../upstream/index.ts';
import { afterSiblingCalls, type NaiveLoading, nullIfMissing, settleAll } from '../loading.ts';

/**
 * A single file is retrieved; two or more are answered from one list call, so a page of rows costs
 * one call whatever its size (the price its fields declare).
 */
const RETRIEVE_AT_MOST = 1;
/** `/files` answers up to 10,000 files in one page, so one call covers most projects. */
const LIST_LIMIT = 10_000;

/** The calls learning whether `files` files exist takes: each one, or one listing. */
export function fileReads(files: number): number {
  return files <= RETRIEVE_AT_MOST ? files : 1;
}

/**
 * The details behind vector-store files (filename, bytes), and whether files exist. OpenAI has no
 * batch read, but one `GET /files` answers a whole page of rows, and every later batch of the
 * request reuses it. A file it does not show does not exist when it shows the whole project; in
 * a project of more than 10,000 files, it is retrieved one by one, within the operation's budget.
 */
export function createFileLoader(
  upstream: Upstream,
  naive?: NaiveLoading,
): DataLoader<string, FileObject | null> {
  let listing: Promise<{ files: Map<string, FileObject>; complete: boolean }> | undefined;
  return new DataLoader(
    async (ids) => {
      if (!listing && ids.length <= RETRIEVE_AT_MOST) {
        return settleAll(ids.map((id) => nullIfMissing(upstream.retrieveFile(id))));
      }
      listing ??= upstream.listFiles({ limit: LIST_LIMIT, order: 'desc' }).then((page) => ({
        files: new Map(page.data.map((file) => [file.id, file])),
        complete: !page.hasMore,
      }));
      let listed: { files: Map<string, FileObject>; complete: boolean };
      try {
        listed = await listing;
      } catch (error) {
        return ids.map(() => (error instanceof Error ? error : new Error(String(error))));
      }
      return settleAll(
        ids.map(
          (id) => listed.files.get(id) ?? (listed.complete ? null : nullIfMissing(upstream.retrieveFile(id))),
        ),
      );
    },
    naive ?? { batchScheduleFn: afterSiblingCalls(upstream) },
  );
}
