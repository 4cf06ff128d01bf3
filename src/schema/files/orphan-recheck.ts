/**
 * Before orphans are deleted: was any of them attached since its store was read? A scan can span
 * many requests, so its attached set may be stale. The stores are listed again, and a store that
 * is new or whose `file_counts.total` or `last_active_at` moved (an attach changes both) has its
 * newest files read until one older than what the scan saw: an attachment is never older than
 * those before it. What is found joins the attached set, and the store's mark moves on, so a
 * recheck cut short by its budget is resumed, not repeated, by the next page.
 *
 * What remains: a file attached after this recheck read its store and before the delete reaches
 * OpenAI (one round trip; OpenAI has no conditional delete), or an attach whose store's total and
 * last_active_at both came back to the same values (an attach and a detach in the same second).
 */
import { OPENAI_LIMITS, type Upstream, type VectorStore } from '../../upstream/index.ts';
import { type CallAllowance, isNotFound, lostCursor, type ScanState, type StoreMark } from './orphan-scan.ts';

/**
 * Calls the recheck may make beyond what the scan left unspent: a listing of up to 1,000 stores,
 * or fewer stores and the newest page of each that changed.
 */
export const ORPHAN_RECHECK_CALLS = 20;
const STORE_PAGE = OPENAI_LIMITS.listPage.max;

export interface Recheck {
  /** Every store that changed was read again: the attached set is current. */
  complete: boolean;
  storesRechecked: number;
}

export async function recheckStores(
  upstream: Upstream,
  state: ScanState,
  calls: CallAllowance,
): Promise<Recheck> {
  const current = await listStores(upstream, calls);
  if (!current) return { complete: false, storesRechecked: 0 };
  let storesRechecked = 0;
  for (const store of current) {
    const seen = state.marks.get(store.id);
    if (
      seen &&
      seen.total === store.file_counts.total &&
      seen.lastActiveAt === (store.last_active_at ?? null)
    )
      continue;
    const mark = await rereadStore(upstream, state, store, seen, calls);
    if (!mark) return { complete: false, storesRechecked };
    state.marks.set(store.id, mark);
    storesRechecked++;
  }
  return { complete: true, storesRechecked };
}

async function listStores(upstream: Upstream, calls: CallAllowance): Promise<VectorStore[] | null> {
  const stores = new Map<string, VectorStore>();
  let after: string | undefined;
  for (;;) {
    if (upstream.cancelled || !calls.take()) return null;
    try {
      const page = await upstream.listVectorStores({ limit: STORE_PAGE, order: 'asc', after });
      for (const store of page.data) stores.set(store.id, store);
      if (!page.hasMore) return [...stores.values()];
      after = page.data.at(-1)?.id ?? after;
    } catch (error) {
      if (!lostCursor(error, after)) throw error;
      after = undefined;
    }
  }
}

/**
 * The store's attachments newer than its mark (all of them for a store the scan never read), into
 * the attached set; its new mark, or null when `calls` ran out first.
 */
async function rereadStore(
  upstream: Upstream,
  state: ScanState,
  store: VectorStore,
  seen: StoreMark | undefined,
  calls: CallAllowance,
): Promise<StoreMark | null> {
  const mark: StoreMark = {
    total: store.file_counts.total,
    lastActiveAt: store.last_active_at ?? null,
    newest: seen?.newest ?? null,
  };
  let after: string | undefined;
  for (;;) {
    if (upstream.cancelled || !calls.take()) return null;
    let page: Awaited<ReturnType<Upstream['listVectorStoreFiles']>>;
    try {
      page = await upstream.listVectorStoreFiles(store.id, { limit: STORE_PAGE, order: 'desc', after });
    } catch (error) {
      if (lostCursor(error, after)) {
        after = undefined;
        continue;
      }
      // Deleted since it was listed: nothing is attached to it any more.
      if (isNotFound(error)) return mark;
      throw error;
    }
    let reachedSeen = false;
    for (const file of page.data) {
      state.attached.add(file.id);
      mark.newest = Math.max(mark.newest ?? file.created_at, file.created_at);
      // Same-second attachments may sit on either side of the mark: only an older one ends it.
      if (seen?.newest != null && file.created_at < seen.newest) reachedSeen = true;
    }
    if (reachedSeen || !page.hasMore) return mark;
    after = page.data.at(-1)?.id ?? after;
  }
}
