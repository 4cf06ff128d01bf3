import { GraphQLError } from 'graphql';
import {
  type ListOrder,
  OPENAI_LIMITS,
  type Page,
  type PageParams,
  UpstreamError,
  walkPages,
} from '../upstream/index.ts';

/** Connection page sizes are OpenAI's list limits. */
export const PAGE_SIZE = OPENAI_LIMITS.listPage;
/** How many pages a tail read may take to close a run of same-second items (100 per page). */
const MAX_TAIL_PAGES = 10;

export interface ConnectionArgs {
  first?: number | null | undefined;
  last?: number | null | undefined;
  after?: string | null | undefined;
  before?: string | null | undefined;
}

export interface ListItem {
  id: string;
  created_at: number;
}

export interface ListSource<T extends ListItem> {
  fetch(page: PageParams): Promise<Page<T>>;
  /** `/files` takes no `before`. */
  supportsBefore: boolean;
  /** Lets later lookups of listed objects cost nothing. */
  prime?(items: readonly T[]): void;
}

export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

type PageRequest =
  | { direction: 'forward'; size: number; after?: string | undefined }
  | { direction: 'backward'; size: number; before?: string | undefined };

function badArgs(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/** Relay arguments to one page request, with the limits OpenAI's list endpoints have. */
export function toPageRequest(args: ConnectionArgs): PageRequest {
  const { first, last, after, before } = args;
  if (first != null && last != null) throw badArgs('Pass either `first` or `last`, not both.');
  if (after != null && before != null) throw badArgs('Pass either `after` or `before`, not both.');
  if (first != null && before != null)
    throw badArgs('`before` pages backwards: use it with `last`, not `first`.');
  if (last != null && after != null)
    throw badArgs('`after` pages forwards: use it with `first`, not `last`.');
  for (const [name, value] of [
    ['first', first],
    ['last', last],
  ] as const) {
    if (value != null && (value < 1 || value > PAGE_SIZE.max)) {
      throw badArgs(`\`${name}\` must be between 1 and ${PAGE_SIZE.max}, got ${value}.`);
    }
  }
  if (last != null || before != null)
    return { direction: 'backward', size: last ?? PAGE_SIZE.default, before: before ?? undefined };
  return { direction: 'forward', size: first ?? PAGE_SIZE.default, after: after ?? undefined };
}

/**
 * One helper for every connection: Relay arguments become one upstream page call (the cursor is
 * the object id), and the page becomes a connection. Never the SDK's auto-pagination.
 */
export async function connectionFromUpstream<T extends ListItem>(
  args: ConnectionArgs,
  order: ListOrder,
  source: ListSource<T>,
): Promise<Connection<T>> {
  const request = toPageRequest(args);
  try {
    const page = await readPage(request, order, source);
    source.prime?.(page.items);
    const edges = page.items.map((node) => ({ cursor: node.id, node }));
    return {
      edges,
      pageInfo: {
        hasNextPage: page.hasNext,
        hasPreviousPage: page.hasPrevious,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  } catch (error) {
    if (
      error instanceof UpstreamError &&
      error.code === 'NOT_FOUND' &&
      (error.param === 'after' || error.param === 'before')
    ) {
      throw badArgs(`The cursor passed as \`${error.param}\` is not an item of this list.`);
    }
    throw error;
  }
}

interface ReadResult<T> {
  items: T[];
  hasNext: boolean;
  hasPrevious: boolean;
}

async function readPage<T extends ListItem>(
  request: PageRequest,
  order: ListOrder,
  source: ListSource<T>,
): Promise<ReadResult<T>> {
  if (request.direction === 'forward') {
    const page = await source.fetch({ limit: request.size, order, after: request.after });
    // A cursor names an existing item, so something precedes the page exactly when one was given.
    return { items: page.data, hasNext: page.hasMore, hasPrevious: request.after !== undefined };
  }
  if (request.before !== undefined && source.supportsBefore) {
    // OpenAI's `before` returns the items right before the cursor, in list order, and `has_more`
    // then looks backwards.
    const page = await source.fetch({ limit: request.size, order, before: request.before });
    return { items: page.data, hasNext: true, hasPrevious: page.hasMore };
  }
  return readTail(request.size, order, source, request.before);
}

/**
 * The last `size` items of the list (or, for `/files`, those before a cursor), read in the opposite
 * order. Flipping `order` does not simply reverse a list: items created in the same second keep
 * their relative order either way. So the page is read as runs of equal `created_at`; runs come
 * back reversed but each run's inner order is already the list's own. A run cut off by the page
 * end is incomplete, so reading goes on until enough whole runs are in hand.
 * For `/files` with a cursor this is the best OpenAI allows: files created in the same second as
 * the cursor may be misplaced, since that list cannot be read backwards from a cursor.
 */
async function readTail<T extends ListItem>(
  size: number,
  order: ListOrder,
  source: ListSource<T>,
  before: string | undefined,
): Promise<ReadResult<T>> {
  const flipped: ListOrder = order === 'asc' ? 'desc' : 'asc';
  const read: T[] = [];
  let hasMore = true;
  // One more than needed shows whether the last wanted item closes its run; later pages are full.
  let limit = Math.min(PAGE_SIZE.max, size + 1);
  let pages = 0;
  for await (const page of walkPages((after) => source.fetch({ limit, order: flipped, after }), before)) {
    read.push(...page.data);
    hasMore = page.hasMore;
    if (!hasMore || completeCount(read) >= size || ++pages >= MAX_TAIL_PAGES) break;
    limit = PAGE_SIZE.max;
  }
  const runs = splitRuns(read);
  // While more may follow, the last run read may still grow; past the page bound, take it as is.
  if (hasMore && runs.length > 1) runs.pop();
  const tail = runs.reverse().flat();
  const items = tail.slice(Math.max(0, tail.length - size));
  return { items, hasNext: before !== undefined, hasPrevious: hasMore || tail.length > items.length };
}

/** Items read in whole runs, leaving out the last run, which the next page may extend. */
function completeCount<T extends ListItem>(read: readonly T[]): number {
  const last = read.at(-1);
  let count = read.length;
  while (count > 0 && read[count - 1]?.created_at === last?.created_at) count--;
  return count;
}

function splitRuns<T extends ListItem>(items: readonly T[]): T[][] {
  const runs: T[][] = [];
  for (const item of items) {
    const run = runs.at(-1);
    if (run && run[0]?.created_at === item.created_at) run.push(item);
    else runs.push([item]);
  }
  return runs;
}
