import { GraphQLError } from 'graphql';
import type OpenAI from 'openai';

export type SearchFilter = NonNullable<OpenAI.VectorStores.VectorStoreSearchParams['filters']>;

/**
 * The gateway's own bounds on a search filter (OpenAI documents none): deep enough for any filter
 * a person writes, shallow enough that a hostile one is refused here, with its path, rather than
 * failing somewhere between the gateway and OpenAI.
 */
export const FILTER_LIMITS = { depth: 8, comparisons: 64 } as const;

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin']);
const COMPOUNDS = new Set(['and', 'or']);

function refuse(path: string, message: string): never {
  throw new GraphQLError(`\`${path}\`: ${message}`, {
    extensions: { code: 'BAD_USER_INPUT', argument: path.split(/[.[]/)[0] },
  });
}

/**
 * Checks a filter's shape, depth and size before any call, and answers it as OpenAI's type. The
 * walk is iterative, so no nesting can exhaust the stack on the way to refusing it.
 */
export function validateFilter(value: unknown, argument: string): SearchFilter {
  let comparisons = 0;
  const stack: Array<{ node: unknown; path: string; depth: number }> = [
    { node: value, path: argument, depth: 1 },
  ];
  while (stack.length > 0) {
    const { node, path, depth } = stack.pop()!;
    if (depth > FILTER_LIMITS.depth) refuse(path, `filters nest at most ${FILTER_LIMITS.depth} deep.`);
    if (typeof node !== 'object' || node === null || Array.isArray(node))
      refuse(path, 'a filter is an object.');
    const filter = node as Record<string, unknown>;
    const type = filter.type;
    if (typeof type === 'string' && COMPOUNDS.has(type)) {
      if (!Array.isArray(filter.filters) || filter.filters.length === 0) {
        refuse(path, `an \`${type}\` filter needs a non-empty \`filters\` list.`);
      }
      filter.filters.forEach((child, index) => {
        stack.push({ node: child, path: `${path}.filters[${index}]`, depth: depth + 1 });
      });
      continue;
    }
    if (typeof type !== 'string' || !COMPARISONS.has(type)) {
      refuse(path, '`type` must be eq, ne, gt, gte, lt, lte, in, nin, and or or.');
    }
    if (typeof filter.key !== 'string' || filter.key === '') refuse(path, 'a comparison needs a `key`.');
    if (!isComparable(filter.value, type === 'in' || type === 'nin')) {
      refuse(path, '`value` must be a string, a number or a boolean (a list of them for in and nin).');
    }
    if (++comparisons > FILTER_LIMITS.comparisons) {
      refuse(argument, `a filter holds at most ${FILTER_LIMITS.comparisons} comparisons.`);
    }
  }
  return value as SearchFilter;
}

function isComparable(value: unknown, list: boolean): boolean {
  if (list) return Array.isArray(value) && value.every((item) => isComparable(item, false));
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}
