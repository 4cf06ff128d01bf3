/**
 * Cursor pagination, as the emulator implements it for every list endpoint.
 *
 * - The cursor is the object id (for vector-store files: the `file-...` id within that store's list,
 *   after the `filter` has been applied).
 * - List order is (created_at seconds, insertion sequence). With `tieOrder: 'reverse'` (the default)
 *   `order=desc` is the exact reverse of `order=asc`, ties included, so objects created in the same
 *   second come newest first under desc. That is what the recordings show for every list
 *   (openai-dotnet tests/SessionRecords: VectorStoresTests/CanEnumerateVectorStores for stores,
 *   FilesTests/ListFiles for files, VectorStoresTests/CanApplyChunkingStrategy(Auto) and
 *   CanUseBatchIngestion for store files, CanPaginateGetVectorStoreFilesInBatch for batch files).
 *   The evidence is mixed: the only recording with both asc and desc over new `vsfb_ibj_` batches
 *   (CanTestGetVectorStoreFilesInBatchCollectionOptions) listed ties in id order under both. The
 *   default follows the majority; `tieOrder: 'stable'` keeps ties in insertion order whatever
 *   `order` says, so a client can be proven correct under either rule.
 * - `after=X` returns the `limit` items strictly after X in list order; `has_more` says whether
 *   anything follows the returned page.
 * - `before=X` returns the `limit` items immediately preceding X, still in list order (not
 *   reversed); `has_more` says whether anything precedes the first returned item, as in the one
 *   recording with `before` (CanTestGetVectorStoreFilesInBatchCollectionOptions: `before=V` gave
 *   [Q, R] with has_more false although V followed).
 * - `after=A&before=B` (no recording has both): the `limit` items strictly between A and B, walking
 *   forward from A; `has_more` says whether more items lie between the page and B. This is what
 *   makes the SDK's auto-pagination of a `before` query end: its next request keeps `before` and
 *   adds `after` = the last item, which is right before B, so it gets an empty page with
 *   has_more false. An explicit `after`+`before` query walks forward to B, each item once.
 * - `first_id` / `last_id` are the first and last ids of `data`, and null on an empty page.
 * - An unknown cursor (never existed, deleted, or not in this filtered list) is a 404 whose `param`
 *   names the cursor (`after` or `before`). With `unknownCursor: 'empty'` it yields an empty page.
 * - `GET /v1/files` has no `before` (the parameter is ignored) and allows `limit` up to 10,000.
 */
import { ApiError } from './errors.ts';
import type { ListParams, SortOrder } from './validation.ts';

export interface Listable {
  id: string;
  createdAt: number;
  seq: number;
}

export interface ListPage<T> {
  object: 'list';
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export type UnknownCursorPolicy = 'not_found' | 'empty';

/** How same-second objects are ordered: reversed with `order` (the real API), or always by insertion. */
export type TieOrder = 'reverse' | 'stable';

export interface ListSettings {
  unknownCursor: UnknownCursorPolicy;
  tieOrder: TieOrder;
}

export function sortForList<T extends Listable>(
  items: Iterable<T>,
  order: SortOrder,
  tieOrder: TieOrder,
): T[] {
  const direction = order === 'asc' ? 1 : -1;
  if (tieOrder === 'stable') {
    return [...items].sort((a, b) => (a.createdAt - b.createdAt) * direction || a.seq - b.seq);
  }
  return [...items].sort((a, b) => (a.createdAt - b.createdAt || a.seq - b.seq) * direction);
}

/** Sorts, slices and renders one page; `render` runs on the page's items only. */
export function listPage<T extends Listable, Out>(
  items: Iterable<T>,
  params: ListParams,
  render: (item: T) => Out,
  settings: ListSettings,
): ListPage<Out> {
  return paginate(
    sortForList(items, params.order, settings.tieOrder),
    params,
    render,
    settings.unknownCursor,
  );
}

/** Slices an already sorted list and renders the envelope. */
export function paginate<T extends Listable, Out>(
  sorted: readonly T[],
  params: ListParams,
  render: (item: T) => Out,
  unknownCursor: UnknownCursorPolicy,
): ListPage<Out> {
  const locate = (param: 'after' | 'before', cursor: string): number | null => {
    const index = sorted.findIndex((item) => item.id === cursor);
    if (index !== -1) return index;
    if (unknownCursor === 'empty') return null;
    throw new ApiError(404, `No object found for '${param}' cursor '${cursor}' in this list.`, { param });
  };
  const afterIndex = params.after === undefined ? -1 : locate('after', params.after);
  const beforeIndex = params.before === undefined ? sorted.length : locate('before', params.before);
  if (afterIndex === null || beforeIndex === null) return envelope([], false, render);

  if (params.before !== undefined && params.after === undefined) {
    const start = Math.max(0, beforeIndex - params.limit);
    return envelope(sorted.slice(start, beforeIndex), start > 0, render);
  }
  const start = afterIndex + 1;
  if (start >= beforeIndex) return envelope([], false, render);
  const end = Math.min(beforeIndex, start + params.limit);
  return envelope(sorted.slice(start, end), end < beforeIndex, render);
}

function envelope<T extends Listable, Out>(
  items: readonly T[],
  hasMore: boolean,
  render: (item: T) => Out,
): ListPage<Out> {
  return {
    object: 'list',
    data: items.map(render),
    first_id: items[0]?.id ?? null,
    last_id: items.at(-1)?.id ?? null,
    has_more: hasMore,
  };
}
