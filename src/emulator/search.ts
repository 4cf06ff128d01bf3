/**
 * Text search for the emulator's POST /v1/vector_stores/{id}/search: chunking, attribute filters and
 * lexical ranking. Pure and dependency-free; it stands in for embeddings, so it is tuned to be
 * predictable in tests rather than semantically clever.
 */

// ---------------------------------------------------------------------------------------------------
// Chunking
// ---------------------------------------------------------------------------------------------------

export interface ChunkingOptions {
  maxChunkSizeTokens: number;
  chunkOverlapTokens: number;
}

/** Costs are counted in quarter tokens so that every character has an integer weight. */
const QUARTERS_PER_TOKEN = 4;

/**
 * Approximate token cost of one UTF-16 unit: Latin text averages about four characters per token,
 * other alphabets about two, and CJK characters and astral symbols (emoji) about one each.
 */
function quarterCost(code: number): number {
  if (code >= 0xdc00 && code <= 0xdfff) return 0; // the high surrogate already paid for the pair
  if (code < 0x0250) return 1;
  return code < 0x2e80 ? 2 : 4;
}

/** Preferred places to end a chunk, best first; each cut falls after the match. */
const BOUNDARIES = [/\n\s*\n\s*/g, /[.!?…]+\s+|[。！？]+\s*|\n\s*/g, /\s+/g];

/** First index whose value is >= target (values are non-decreasing). */
function lowerBound(values: Uint32Array, target: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Picks where a chunk starting at `start` ends, given that `limit` is the furthest that fits. */
function chunkEnd(text: string, start: number, limit: number): number {
  // Cuts in the first half of the window would produce needlessly small chunks.
  const from = start + Math.ceil((limit - start) / 2);
  // One extra character lets whitespace right after the limit end a chunk; trim() drops it again.
  const window = text.slice(from, limit + 1);
  for (const boundary of BOUNDARIES) {
    let cut = -1;
    for (const match of window.matchAll(boundary)) cut = match.index + match[0].length;
    if (cut > 0) return from + cut;
  }
  return limit;
}

/** Moves an overlap start off the middle of a word (or surrogate pair) so chunks begin cleanly. */
function chunkStart(text: string, position: number, end: number): number {
  if (position > 0 && /\S/.test(text[position - 1]!)) {
    const gap = text.slice(position, end).search(/\s/);
    if (gap !== -1) return position + gap;
  }
  const code = text.charCodeAt(position);
  return code >= 0xdc00 && code <= 0xdfff ? position + 1 : position;
}

/**
 * Splits text into overlapping chunks of at most `maxChunkSizeTokens` approximate tokens, ending
 * each chunk on a paragraph, sentence or word boundary when one lies in the second half of the
 * window. An overlap above half the chunk size (which OpenAI rejects) is clamped to half.
 * Tokens are not counted with a real tokenizer but estimated per character (quarterCost: about
 * four Latin characters, two of other alphabets, or one CJK character or emoji per token), which
 * keeps chunk sizes close to OpenAI's for English text without a tokenizer dependency; so a
 * static 400/100 strategy makes chunks of at most about 1,600 English characters, overlapping by
 * about 400.
 */
export function chunkText(text: string, options: ChunkingOptions): string[] {
  const budget = Math.max(1, Math.floor(options.maxChunkSizeTokens)) * QUARTERS_PER_TOKEN;
  const overlap = Math.min(
    Math.max(0, Math.floor(options.chunkOverlapTokens)) * QUARTERS_PER_TOKEN,
    budget / 2,
  );
  const cost = new Uint32Array(text.length + 1);
  for (let i = 0; i < text.length; i++) cost[i + 1] = cost[i]! + quarterCost(text.charCodeAt(i));

  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    const limit = lowerBound(cost, cost[start]! + budget + 1) - 1;
    const end = limit >= text.length ? text.length : chunkEnd(text, start, limit);
    const chunk = text.slice(start, end).trim();
    if (chunk) chunks.push(chunk);
    if (end >= text.length) break;
    const next = overlap > 0 ? chunkStart(text, lowerBound(cost, cost[end]! - overlap), end) : end;
    // A chunk no longer than the overlap would otherwise restart at (or before) its own start.
    start = next > start ? next : end;
  }
  return chunks;
}

// ---------------------------------------------------------------------------------------------------
// Attribute filters
// ---------------------------------------------------------------------------------------------------

export type AttributeValue = string | number | boolean;

export type AttributeFilter =
  | {
      type: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin';
      key: string;
      value: AttributeValue | Array<string | number>;
    }
  | { type: 'and' | 'or'; filters: AttributeFilter[] };

const COMPARISON_TYPES: readonly string[] = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin'];
const COMPOUND_TYPES: readonly string[] = ['and', 'or'];
/** Bounds recursion and the cost of matching every file in a store against one filter tree. */
const MAX_FILTER_DEPTH = 10;
const MAX_FILTER_NODES = 1000;
const MAX_LIST_VALUES = 1000;

type FilterError = { message: string; param: string };

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Joins alternatives the way OpenAI's messages do: "a, b, and c" / "a or b". */
function list(items: readonly string[], conjunction: 'and' | 'or'): string {
  if (items.length < 3) return items.join(` ${conjunction} `);
  return `${items.slice(0, -1).join(', ')}, ${conjunction} ${items.at(-1)}`;
}

function invalidType(param: string, expected: readonly string[], actual: unknown): FilterError {
  const wanted = expected.length > 1 ? `one of ${list(expected, 'or')}` : expected.join('');
  return {
    message: `Invalid type for '${param}': expected ${wanted}, but got ${describe(actual)} instead.`,
    param,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks an untrusted filter against the ComparisonFilter/CompoundFilter schemas and reports the
 * first problem in OpenAI's wording. Beyond the schema, `in`/`nin` require a list and the other
 * comparisons a scalar, because any other pairing has no meaning to evaluate. Empty lists are
 * valid, as in the schema. Depth, list length and total filter count are capped.
 */
export function validateFilter(filter: unknown, param = 'filters'): FilterError | null {
  let nodes = 0;

  const visit = (node: unknown, path: string, depth: number): FilterError | null => {
    if (depth > MAX_FILTER_DEPTH) {
      return {
        message: `Invalid '${path}': filters are nested too deeply. Expected a maximum depth of ${MAX_FILTER_DEPTH}.`,
        param: path,
      };
    }
    if (++nodes > MAX_FILTER_NODES) {
      return {
        message: `Invalid '${param}': too many filters. Expected at most ${MAX_FILTER_NODES} filters in total.`,
        param,
      };
    }
    if (!isRecord(node)) return invalidType(path, ['an object'], node);
    if (node.type === undefined) {
      return { message: `Missing required parameter: '${path}.type'.`, param: `${path}.type` };
    }
    const { type } = node;
    if (typeof type !== 'string') return invalidType(`${path}.type`, ['a string'], type);
    const compound = COMPOUND_TYPES.includes(type);
    if (!compound && !COMPARISON_TYPES.includes(type)) {
      const supported = [...COMPARISON_TYPES, ...COMPOUND_TYPES].map((t) => `'${t}'`);
      return {
        message: `Invalid value: '${type}'. Supported values are: ${list(supported, 'and')}.`,
        param: `${path}.type`,
      };
    }

    const fields = compound ? ['type', 'filters'] : ['type', 'key', 'value'];
    for (const field of fields) {
      if (node[field] === undefined) {
        return { message: `Missing required parameter: '${path}.${field}'.`, param: `${path}.${field}` };
      }
    }
    const unknown = Object.keys(node).find((field) => !fields.includes(field));
    if (unknown !== undefined) {
      return { message: `Unknown parameter: '${path}.${unknown}'.`, param: `${path}.${unknown}` };
    }

    if (compound) {
      const children = node.filters;
      if (!Array.isArray(children)) return invalidType(`${path}.filters`, ['an array'], children);
      for (const [i, child] of children.entries()) {
        const error = visit(child, `${path}.filters[${i}]`, depth + 1);
        if (error) return error;
      }
      return null;
    }

    if (typeof node.key !== 'string') return invalidType(`${path}.key`, ['a string'], node.key);
    const { value } = node;
    const valuePath = `${path}.value`;
    if (type !== 'in' && type !== 'nin') {
      const scalar = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
      return scalar ? null : invalidType(valuePath, ['a string', 'a number', 'a boolean'], value);
    }
    if (!Array.isArray(value)) return invalidType(valuePath, ['an array'], value);
    if (value.length > MAX_LIST_VALUES) {
      return {
        message: `Invalid '${valuePath}': array too long. Expected an array with maximum length ${MAX_LIST_VALUES}, but got an array with length ${value.length} instead.`,
        param: valuePath,
      };
    }
    const badIndex = value.findIndex((item) => typeof item !== 'string' && typeof item !== 'number');
    return badIndex === -1
      ? null
      : invalidType(`${valuePath}[${badIndex}]`, ['a string', 'a number'], value[badIndex]);
  };

  return visit(filter, param, 1);
}

/** Orders two values of the same primitive type; NaN (which fails every comparison) otherwise. */
function order(actual: AttributeValue, expected: unknown): number {
  if (typeof actual === 'number' && typeof expected === 'number') return actual - expected;
  if (typeof actual === 'string' && typeof expected === 'string') {
    return actual < expected ? -1 : actual > expected ? 1 : 0;
  }
  return Number.NaN;
}

/**
 * Evaluates a validated filter. A comparison only holds when the attribute exists and has the
 * operand's type, so a missing attribute or a type mismatch fails every operator, `ne` and `nin`
 * included: "not equal" is not taken to mean "absent". Strings order by UTF-16 code units (ISO
 * dates sort correctly); booleans support only eq/ne. `and []` is true and `or []` is false.
 */
export function matchesFilter(
  filter: AttributeFilter,
  attributes: Record<string, AttributeValue> | null,
): boolean {
  switch (filter.type) {
    case 'and':
      return filter.filters.every((child) => matchesFilter(child, attributes));
    case 'or':
      return filter.filters.some((child) => matchesFilter(child, attributes));
  }
  // Own keys only, so that a key such as 'constructor' cannot reach Object.prototype.
  const actual = attributes && Object.hasOwn(attributes, filter.key) ? attributes[filter.key] : undefined;
  if (actual === undefined) return false;
  const { value } = filter;
  const candidates: unknown[] = Array.isArray(value) ? value : [value];
  switch (filter.type) {
    case 'eq':
      return actual === value;
    case 'ne':
      return typeof actual === typeof value && actual !== value;
    case 'gt':
      return order(actual, value) > 0;
    case 'gte':
      return order(actual, value) >= 0;
    case 'lt':
      return order(actual, value) < 0;
    case 'lte':
      return order(actual, value) <= 0;
    case 'in':
      return candidates.includes(actual);
    case 'nin':
      return typeof actual !== 'boolean' && !candidates.includes(actual);
  }
}

// ---------------------------------------------------------------------------------------------------
// Ranking
// ---------------------------------------------------------------------------------------------------

export interface RankableChunk {
  key: string;
  text: string;
}

const K1 = 1.2;
const B = 0.75;
const CJK = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}`;
/** CJK is written without spaces, so each of its characters is a term; other letters form words. */
const TOKEN = new RegExp(String.raw`[${CJK}]|(?:(?![${CJK}])[\p{L}\p{M}\p{N}])+`, 'gu');

interface Terms {
  counts: Map<string, number>;
  length: number;
}

function terms(text: string): Terms {
  const counts = new Map<string, number>();
  let length = 0;
  for (const [token] of text.normalize('NFKC').toLowerCase().matchAll(TOKEN)) {
    // A crude plural strip so that "stores" finds "store"; 'ss' endings ("class") are not plurals.
    const term =
      token.length > 3 && token.endsWith('s') && !token.endsWith('ss') ? token.slice(0, -1) : token;
    counts.set(term, (counts.get(term) ?? 0) + 1);
    length++;
  }
  return { counts, length };
}

/**
 * Ranks chunks by BM25 against each query and keeps each chunk's best query. A raw BM25 score is
 * divided by the query's score against itself as if it were a chunk (the score of a perfect
 * match), so a chunk identical to the query scores exactly 1 and partial matches fall between 0
 * and 1. Chunks that beat that reference (many repetitions) are capped at 1 but still sort by
 * their raw ratio. Term statistics come from the chunks given, i.e. the store being searched.
 */
export function rankChunks(
  queries: string[],
  chunks: RankableChunk[],
  options: { scoreThreshold?: number } = {},
): Array<{ key: string; score: number }> {
  const documents = chunks.map((chunk) => terms(chunk.text));
  const averageLength = documents.reduce((sum, doc) => sum + doc.length, 0) / documents.length || 1;
  const documentFrequency = new Map<string, number>();
  for (const doc of documents) {
    for (const term of doc.counts.keys()) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  }
  // Lucene's IDF variant: never negative, so a term present in every chunk still counts a little.
  const idf = (term: string): number => {
    const n = documentFrequency.get(term) ?? 0;
    return Math.log(1 + (documents.length - n + 0.5) / (n + 0.5));
  };

  const best = new Array<number>(chunks.length).fill(0);
  for (const query of queries) {
    const queryTerms = terms(query);
    const weights = [...queryTerms.counts.keys()].map((term) => [term, idf(term)] as const);
    const bm25 = (doc: Terms): number => {
      const lengthNorm = K1 * (1 - B + (B * doc.length) / averageLength);
      let score = 0;
      for (const [term, weight] of weights) {
        const tf = doc.counts.get(term) ?? 0;
        score += (weight * tf * (K1 + 1)) / (tf + lengthNorm);
      }
      return score;
    };
    const perfect = bm25(queryTerms);
    if (perfect === 0) continue;
    documents.forEach((doc, i) => {
      best[i] = Math.max(best[i]!, bm25(doc) / perfect);
    });
  }

  const threshold = options.scoreThreshold ?? 0;
  return chunks
    .map((chunk, i) => ({ key: chunk.key, ratio: best[i]! }))
    .filter(({ ratio }) => ratio > 0 && Math.min(1, ratio) >= threshold)
    .sort((a, b) => b.ratio - a.ratio)
    .map(({ key, ratio }) => ({ key, score: Math.min(1, ratio) }));
}
