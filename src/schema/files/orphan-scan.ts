/**
 * The orphan scan: which Files are attached to no vector store. Knowing that takes every store's
 * file list (phase 1, the attached set) before `GET /files` can be read against it (phase 2), and
 * that total is unbounded, so each request spends at most `ORPHAN_SCAN_CALLS` and leaves the rest
 * to the next. Phase 1 lives in the scan cache (orphan-cache.ts), phase 2's position in the cursor
 * (orphan-cursor.ts): a lost cache entry is rebuilt, and the files before the cursor's position,
 * whose orphans were already emitted, are not read again.
 *
 * Store-file lists are read without `filter`, which returns every status (the OpenAPI description
 * makes it optional, and the emulator follows it): a failed or cancelled file is still attached.
 */
import { GraphQLError } from 'graphql';
import {
  type FileObject,
  OPENAI_LIMITS,
  type Upstream,
  UpstreamError,
  type VectorStore,
} from '../../upstream/index.ts';
import { SCAN_CACHE_LIMITS, ScanCache } from './orphan-cache.ts';
import type { FilePosition, OrphanCursor } from './orphan-cursor.ts';

/**
 * Upstream calls one page of a scan may make. Small enough that `deleteOrphanedFiles` (a scan, the
 * recheck and up to 100 deletes) fits the default limit of 150 calls an operation, large enough
 * that a project of a few thousand attachments is read in one or two pages.
 */
export const ORPHAN_SCAN_CALLS = 30;
const STORE_PAGE = OPENAI_LIMITS.listPage.max;
const FILES_PAGE = OPENAI_LIMITS.filesListPage.max;

/** A store as its files were read: what the recheck compares to find stores attached to since. */
export interface StoreMark {
  total: number;
  lastActiveAt: number | null;
  /** `created_at` of the newest attachment read; anything attached later is at least as new. */
  newest: number | null;
}

/** Phase 1 of one scan, kept between its pages. */
export class ScanState {
  /** Stores in list order, with their listing's counts; complete once `storesListed`. */
  stores: Array<{ id: string; mark: StoreMark }> = [];
  storesListed = false;
  storeListAfter: string | undefined;
  /** The store being read, and where in its file list. */
  storeIndex = 0;
  storeFilesAfter: string | undefined;
  /** Stores whose files were read, as they were then. */
  readonly marks = new Map<string, StoreMark>();
  readonly attached = new Set<string>();

  get attachmentsKnown(): boolean {
    return this.storesListed && this.storeIndex >= this.stores.length;
  }

  weight(): number {
    return this.attached.size + this.stores.length;
  }
}

/** Process-wide, as scans span requests; see orphan-cache.ts for its bounds. */
export const orphanScans = new ScanCache<ScanState>();

/** Calls one step of a scan may still make: `take()` before each, false once spent. */
export class CallAllowance {
  private used = 0;
  constructor(private readonly limit: number) {}
  take(): boolean {
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }
  get spent(): number {
    return this.used;
  }
  get left(): number {
    return this.limit - this.used;
  }
}

export interface ScanProgress {
  storesTotal: number | null;
  storesScanned: number;
  attachedFiles: number;
  /** Every file up to the cutoff was examined: nothing follows this page. */
  complete: boolean;
  cutoff: number;
}

/** A page of orphans, and where the scan stands after it. */
export interface OrphanPage {
  orphans: FileObject[];
  /** The last file examined (where the next page starts); the cursor's position if none was. */
  end: FilePosition | null;
  /** The last examined file that is not an orphan, and how many orphans were found after it. */
  lastKept: { position: FilePosition | null; orphansAfter: number };
  progress: ScanProgress;
}

/** The scan's state for this credential, alone for the length of `work`; rebuilt when missing. */
export function withScan<R>(
  upstream: Upstream,
  scanId: string,
  work: (state: ScanState) => Promise<R>,
): Promise<R> {
  const owner = upstream.credentialDigest('orphan-scan-owner').toString('base64url');
  return orphanScans.use(owner, scanId, () => new ScanState(), work);
}

/** Up to `want` orphans after the cursor's position, within `calls`. */
export async function scanPage(
  upstream: Upstream,
  state: ScanState,
  cursor: OrphanCursor,
  want: number,
  calls: CallAllowance,
): Promise<OrphanPage> {
  const page: OrphanPage = {
    orphans: [],
    end: cursor.position,
    lastKept: { position: cursor.position, orphansAfter: 0 },
    progress: progressOf(state, cursor, false),
  };
  const complete =
    (await readAttachments(upstream, state, calls)) &&
    (await readFiles(upstream, state, cursor, want, calls, page));
  page.progress = progressOf(state, cursor, complete);
  return page;
}

function progressOf(state: ScanState, cursor: OrphanCursor, complete: boolean): ScanProgress {
  return {
    storesTotal: state.storesListed ? state.stores.length : null,
    storesScanned: state.marks.size,
    attachedFiles: state.attached.size,
    complete,
    cutoff: cursor.cutoff,
  };
}

function markOf(store: VectorStore): StoreMark {
  return { total: store.file_counts.total, lastActiveAt: store.last_active_at ?? null, newest: null };
}

/** Whether a 404 is about the `after` cursor (an object deleted since), not the list's owner. */
export function lostCursor(error: unknown, after: string | undefined): boolean {
  return after !== undefined && error instanceof UpstreamError && error.code === 'NOT_FOUND';
}

export function isNotFound(error: unknown): boolean {
  return error instanceof UpstreamError && error.code === 'NOT_FOUND';
}

/** Phase 1, as far as `calls` allow: true once every store's files are known. */
async function readAttachments(upstream: Upstream, state: ScanState, calls: CallAllowance): Promise<boolean> {
  while (!state.attachmentsKnown) {
    if (upstream.cancelled || !calls.take()) return false;
    if (!state.storesListed) {
      const after = state.storeListAfter;
      try {
        const listed = await upstream.listVectorStores({ limit: STORE_PAGE, order: 'asc', after });
        for (const store of listed.data) state.stores.push({ id: store.id, mark: markOf(store) });
        state.storeListAfter = listed.data.at(-1)?.id ?? after;
        state.storesListed = !listed.hasMore;
      } catch (error) {
        if (!lostCursor(error, after)) throw error;
        // The store the listing stood at was deleted: list again (no store is read before the end).
        state.stores = [];
        state.storeListAfter = undefined;
      }
      continue;
    }
    const store = state.stores[state.storeIndex]!;
    const after = state.storeFilesAfter;
    try {
      const listed = await upstream.listVectorStoreFiles(store.id, {
        limit: STORE_PAGE,
        order: 'asc',
        after,
      });
      for (const file of listed.data) {
        state.attached.add(file.id);
        store.mark.newest = Math.max(store.mark.newest ?? file.created_at, file.created_at);
      }
      state.storeFilesAfter = listed.data.at(-1)?.id ?? after;
      if (listed.hasMore) continue;
      state.marks.set(store.id, store.mark);
    } catch (error) {
      if (lostCursor(error, after)) {
        // The file the list stood at was detached: read the store again (the set takes repeats).
        state.storeFilesAfter = undefined;
        continue;
      }
      // Deleted since it was listed: it holds no file now.
      if (!isNotFound(error)) throw error;
    }
    state.storeIndex++;
    state.storeFilesAfter = undefined;
    if (state.weight() > SCAN_CACHE_LIMITS.weight) {
      throw new GraphQLError(
        `The project has more attached files than an orphan scan can hold (${SCAN_CACHE_LIMITS.weight}).`,
        { extensions: { code: 'SCAN_TOO_LARGE' } },
      );
    }
  }
  return true;
}

/**
 * Phase 2: `GET /files` oldest first from the cursor's position, each file older than the cutoff
 * and in no store an orphan, until `want` are found, the cutoff is passed or `calls` are spent.
 * Files created after the cutoff all come after it, so the first of them ends the scan. Returns
 * whether the scan is complete.
 */
async function readFiles(
  upstream: Upstream,
  state: ScanState,
  cursor: OrphanCursor,
  want: number,
  calls: CallAllowance,
  page: OrphanPage,
): Promise<boolean> {
  let after = cursor.position?.id;
  // Set when the file the list stood at was deleted since: files before its second were examined.
  let skipBefore: number | undefined;
  const found = new Set<string>();
  for (;;) {
    if (upstream.cancelled || !calls.take()) return false;
    let listed: { data: FileObject[]; hasMore: boolean };
    try {
      listed = await upstream.listFiles({ limit: FILES_PAGE, order: 'asc', after, purpose: cursor.purpose });
    } catch (error) {
      const anchor = page.end;
      if (!lostCursor(error, after) || !anchor) throw error;
      // Read from the start again, skipping what precedes the deleted file's second; files of that
      // very second are read again (their order relative to it is unknown now), so an orphan of
      // that second emitted by an earlier page can be emitted again, never skipped.
      after = undefined;
      skipBefore = anchor.createdAt;
      continue;
    }
    for (const file of listed.data) {
      if (file.created_at > cursor.cutoff) return true;
      if (found.has(file.id)) continue;
      const position = { id: file.id, createdAt: file.created_at };
      if ((skipBefore !== undefined && file.created_at < skipBefore) || state.attached.has(file.id)) {
        page.lastKept = { position, orphansAfter: 0 };
      } else {
        // The page is full: this orphan starts the next one, and the scan is not complete.
        if (page.orphans.length >= want) return false;
        page.orphans.push(file);
        found.add(file.id);
        page.lastKept.orphansAfter++;
      }
      page.end = position;
    }
    after = listed.data.at(-1)?.id ?? after;
    if (!listed.hasMore) return true;
    if (page.orphans.length >= want) return false;
  }
}
