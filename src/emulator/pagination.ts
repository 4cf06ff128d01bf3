/**
 * Cursor pagination, as the emulator implements it for every list endpoint.
 *
 * - The cursor is the object id (for vector-store files: the `file-...` id within that store's list,
 *   after the `filter` has been applied).
 * - List order is (created_at seconds, insertion sequence). `order=asc` sorts created_at ascending,
 *   `order=desc` descending, but objects created in the same second keep their insertion order in
 *   both directions: the real API's tie-breaker is an internal key that `order` does not reverse
 *   (see the recordings cited in the tests).
 * - `after=X` returns the `limit` items strictly after X in list order; `has_more` says whether
 *   anything follows the returned page.
 * - `before=X` returns the `limit` items immediately preceding X, still in list order (not
 *   reversed); `has_more` says whether anything precedes the first returned item.
 * - `after` and `before` together are rejected with 400 (param `before`). The SDK sends both when
 *   auto-paginating a `before` query; failing loudly beats walking two directions at once.
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

export function sortForList<T extends Listable>(items: Iterable<T>, order: SortOrder): T[] {
  const direction = order === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => (a.createdAt - b.createdAt) * direction || a.seq - b.seq);
}

/** Slices an already sorted list and renders the envelope; `render` runs on the page only. */
export function paginate<T extends Listable, Out>(
  sorted: readonly T[],
  params: ListParams,
  render: (item: T) => Out,
  unknownCursor: UnknownCursorPolicy,
): ListPage<Out> {
  const cursorParam = params.before !== undefined ? 'before' : 'after';
  const cursor = params.before ?? params.after;
  let start = 0;
  let end = Math.min(sorted.length, params.limit);
  let hasMore = sorted.length > end;

  if (cursor !== undefined) {
    const index = sorted.findIndex((item) => item.id === cursor);
    if (index === -1) {
      if (unknownCursor === 'empty') return envelope([], false, render);
      throw new ApiError(404, `No object found for '${cursorParam}' cursor '${cursor}' in this list.`, {
        param: cursorParam,
      });
    }
    if (cursorParam === 'after') {
      start = index + 1;
      end = Math.min(sorted.length, start + params.limit);
      hasMore = end < sorted.length;
    } else {
      end = index;
      start = Math.max(0, end - params.limit);
      hasMore = start > 0;
    }
  }
  return envelope(sorted.slice(start, end), hasMore, render);
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
