import type { Context } from '../../context.ts';
import { OPENAI_LIMITS, type VectorStoreFile, walkPages } from '../../upstream/index.ts';
import { encodeNestedId } from '../ids.ts';

const PAGE = OPENAI_LIMITS.listPage.max;

/** The most calls reading a whole store of up to `max` files takes: its pages of 100. */
export function wholeListCalls(max: number): number {
  return Math.max(1, Math.ceil(max / PAGE));
}

/**
 * Every file of a store, in every status, when it holds at most `max`; null when it holds more
 * (the page that says so is the last one read). Pages are read oldest first, so files attached
 * meanwhile come last rather than shifting the pages.
 */
export async function readWholeList(
  context: Context,
  vectorStoreId: string,
  max: number,
): Promise<VectorStoreFile[] | null> {
  const files: VectorStoreFile[] = [];
  const pages = walkPages((after) =>
    context.upstream.listVectorStoreFiles(vectorStoreId, { limit: PAGE, order: 'asc', after }),
  );
  for await (const page of pages) {
    files.push(...page.data);
    if (files.length > max || (files.length === max && page.hasMore)) return null;
  }
  for (const file of files)
    context.loaders.vectorStoreFile.prime(encodeNestedId(vectorStoreId, file.id), file);
  return files;
}
