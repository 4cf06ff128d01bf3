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

/** Pages read forward from the anchor: two, or one and the `before` read (TAIL_READS in all). */
const FORWARD_PAGES = 2;

/**
 * The last `size` items of the list (or, for `/files`, those before a cursor), which OpenAI has no
 * call for: the list is read in the opposite order. The recordings show `desc` as the exact
 * reverse of `asc`, same-second items included, and then that one read answers. Where it holds
 * same-second items, though, their order is settled with the list's own cursors rather than by
 * trusting that rule: the last item read (which precedes the wanted ones under the recorded rule,
 * and may fall among them under another) anchors a forward read to the list's end, and a native
 * `before` read fills in whatever precedes the anchor. Exact under either rule, in at most 3 calls,
 * except after a run of 200+ same-second items at the list's end under a rule that keeps
 * insertion order both ways, where the recorded rule is relied on. `/files` has no `before`:
 * there it is relied on always.
 */
async function readTail<T extends ListItem>(
  size: number,
  order: ListOrder,
  source: ListSource<T>,
  before: string | undefined,
): Promise<ReadResult<T>> {
  const flipped: ListOrder = order === 'asc' ? 'desc' : 'asc';
  // One more than wanted tells whether anything precedes the page.
  const page = await source.fetch({
    limit: Math.min(PAGE_SIZE.max, size + 1),
    order: flipped,
    after: before,
  });
  const read = page.data;
  const hasNext = before !== undefined;
  if (!hasTies(read) || !source.supportsBefore || before !== undefined) {
    return { items: read.slice(0, size).reverse(), hasNext, hasPrevious: page.hasMore || read.length > size };
  }
  if (read.length <= size && !page.hasMore) {
    // The whole list is in hand: read once more in its own order.
    const whole = await source.fetch({ limit: size, order });
    return { items: whole.data, hasNext, hasPrevious: false };
  }
  const anchor = read.at(-1)!;
  const following: T[] = [];
  let pages = 0;
  for await (const next of walkPages(
    (cursor) => source.fetch({ limit: PAGE_SIZE.max, order, after: cursor }),
    anchor.id,
  )) {
    following.push(...next.data);
    // Still more after two pages: only a rule that keeps insertion order both ways over a run of
    // 200+ same-second items gets here, and walking that run has no bound an estimate could
    // promise, so the recorded rule answers, as it does for `/files`.
    if (++pages === FORWARD_PAGES && next.hasMore) {
      return { items: read.slice(0, size).reverse(), hasNext, hasPrevious: true };
    }
  }
  if (following.length >= size) return { items: following.slice(-size), hasNext, hasPrevious: true };
  const missing = size - following.length - 1;
  if (missing === 0) return { items: [anchor, ...following], hasNext, hasPrevious: true };
  const preceding = await source.fetch({ limit: missing, order, before: anchor.id });
  return { items: [...preceding.data, anchor, ...following], hasNext, hasPrevious: preceding.hasMore };
}

/** Whether two items of a page were created in the same second, so their order is upstream's choice. */
function hasTies<T extends ListItem>(items: readonly T[]): boolean {
  const seconds = new Set(items.map((item) => item.created_at));
  return seconds.size < items.length;
}
