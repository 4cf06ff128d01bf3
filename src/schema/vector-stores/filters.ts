import { GraphQLError } from 'graphql';
import type OpenAI from 'openai';
import { builder } from '../builder.ts';

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

// Typed filters: the same filter as a GraphQL input, checked by the schema itself.

const AttributeValueInput = builder.inputType('AttributeValueInput', {
  description: 'An attribute value to compare with: exactly one of a string, a number or a boolean.',
  isOneOf: true,
  fields: (t) => ({
    string: t.string({ description: 'A string.' }),
    number: t.float({ description: 'A number.' }),
    boolean: t.boolean({ description: 'A boolean.' }),
  }),
});

const AttributeComparisonInput = builder.inputType('AttributeComparisonInput', {
  description: 'An attribute compared with one value.',
  fields: (t) => ({
    key: t.string({ required: true, description: 'The attribute.' }),
    value: t.field({ type: AttributeValueInput, required: true, description: 'The value.' }),
  }),
});

const AttributeListComparisonInput = builder.inputType('AttributeListComparisonInput', {
  description: 'An attribute compared with a list of values.',
  fields: (t) => ({
    key: t.string({ required: true, description: 'The attribute.' }),
    values: t.field({ type: [AttributeValueInput], required: true, description: 'The values.' }),
  }),
});

export interface SearchFilterShape {
  eq?: ComparisonShape | null;
  ne?: ComparisonShape | null;
  gt?: ComparisonShape | null;
  gte?: ComparisonShape | null;
  lt?: ComparisonShape | null;
  lte?: ComparisonShape | null;
  in?: ListComparisonShape | null;
  nin?: ListComparisonShape | null;
  and?: SearchFilterShape[] | null;
  or?: SearchFilterShape[] | null;
}
interface ValueShape {
  string?: string | null;
  number?: number | null;
  boolean?: boolean | null;
}
interface ComparisonShape {
  key: string;
  value: ValueShape;
}
interface ListComparisonShape {
  key: string;
  values: ValueShape[];
}

export const SearchFilterInput = builder.inputRef<SearchFilterShape>('SearchFilterInput').implement({
  description:
    'A filter on file attributes, typed: exactly one comparison (`eq` ... `nin`) or combination (`and`, `or`) of filters. `{and: [{eq: {key: "lang", value: {string: "en"}}}, {gte: {key: "year", value: {number: 2024}}}]}`.',
  isOneOf: true,
  fields: (t) => ({
    eq: t.field({ type: AttributeComparisonInput, description: 'Equal.' }),
    ne: t.field({ type: AttributeComparisonInput, description: 'Not equal.' }),
    gt: t.field({ type: AttributeComparisonInput, description: 'Greater than.' }),
    gte: t.field({ type: AttributeComparisonInput, description: 'Greater than or equal.' }),
    lt: t.field({ type: AttributeComparisonInput, description: 'Less than.' }),
    lte: t.field({ type: AttributeComparisonInput, description: 'Less than or equal.' }),
    in: t.field({ type: AttributeListComparisonInput, description: 'One of the values.' }),
    nin: t.field({ type: AttributeListComparisonInput, description: 'None of the values.' }),
    and: t.field({ type: [SearchFilterInput], description: 'All of these filters.' }),
    or: t.field({ type: [SearchFilterInput], description: 'Any of these filters.' }),
  }),
});

function comparedValue(value: ValueShape): string | number | boolean {
  return value.string ?? value.number ?? value.boolean ?? '';
}

/**
 * The typed filter as OpenAI takes it: exactly what the same filter written for the SDK would
 * be. Its shape was checked by the schema (one-of inputs); depth and size are checked after.
 */
export function filterFromInput(input: SearchFilterShape, argument: string): SearchFilter {
  const toFilter = (node: SearchFilterShape): unknown => {
    for (const type of ['and', 'or'] as const) {
      const filters = node[type];
      if (filters) return { type, filters: filters.map(toFilter) };
    }
    for (const type of ['in', 'nin'] as const) {
      const comparison = node[type];
      if (comparison) return { type, key: comparison.key, value: comparison.values.map(comparedValue) };
    }
    for (const type of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'] as const) {
      const comparison = node[type];
      if (comparison) return { type, key: comparison.key, value: comparedValue(comparison.value) };
    }
    return {};
  };
  return validateFilter(toFilter(input), argument);
}
