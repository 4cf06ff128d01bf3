import { describe, expect, it } from 'vitest';
import {
  type AttributeFilter,
  type AttributeValue,
  chunkText,
  matchesFilter,
  rankChunks,
  validateFilter,
} from '../../src/emulator/search.ts';

const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);
const sentence = (i: number): string => `Sentence number ${i} talks about vector stores and files.`;
const prose = (count: number): string => Array.from({ length: count }, (_, i) => sentence(i)).join(' ');

describe('chunkText', () => {
  it('returns no chunks for empty or blank text', () => {
    expect(chunkText('', { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 })).toEqual([]);
    expect(chunkText(' \n\n\t ', { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 })).toEqual([]);
  });

  it('keeps short text as one trimmed chunk', () => {
    expect(chunkText('  Hello, world.  ', { maxChunkSizeTokens: 800, chunkOverlapTokens: 400 })).toEqual([
      'Hello, world.',
    ]);
  });

  it('respects the size budget of about four Latin characters per token', () => {
    const chunks = chunkText(prose(200), { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 });
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(400);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.length).toBeGreaterThan(200);
  });

  it('loses and duplicates nothing without overlap', () => {
    const text = prose(120);
    const chunks = chunkText(text, { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 });
    expect(chunks.flatMap(words)).toEqual(words(text));
  });

  it('ends chunks on sentence boundaries when it can', () => {
    const chunks = chunkText(prose(100), { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 });
    for (const chunk of chunks) {
      expect(chunk).toMatch(/^Sentence number \d+/);
      expect(chunk).toMatch(/files\.$/);
    }
  });

  it('prefers a paragraph break over a later sentence break', () => {
    const first = prose(5);
    const text = `${first}\n\n${prose(20)}`;
    const [chunk] = chunkText(text, { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 });
    expect(chunk).toBe(first);
  });

  it('falls back to word boundaries, then to hard cuts', () => {
    const text = Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ');
    const chunks = chunkText(text, { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 });
    expect(chunks.flatMap(words)).toEqual(words(text));

    const unbroken = 'x'.repeat(1000);
    const pieces = chunkText(unbroken, { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 });
    expect(pieces.map((piece) => piece.length)).toEqual([400, 400, 200]);
  });

  it('overlaps consecutive chunks by roughly the requested amount, starting on a word', () => {
    const text = prose(100);
    const chunks = chunkText(text, { maxChunkSizeTokens: 100, chunkOverlapTokens: 25 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const [i, chunk] of chunks.entries()) {
      expect(chunk.length).toBeLessThanOrEqual(400);
      expect(text).toContain(chunk);
      expect(text.indexOf(chunk) === 0 || /\s/.test(text[text.indexOf(chunk) - 1] ?? '')).toBe(true);
      const previous = chunks[i - 1];
      if (previous === undefined) continue;
      const shared = previous.slice(-120);
      const overlap = shared.slice(shared.indexOf(chunk.slice(0, 20)));
      expect(chunk.startsWith(overlap)).toBe(true);
      expect(overlap.length).toBeGreaterThan(50);
      expect(overlap.length).toBeLessThanOrEqual(100);
    }
  });

  it('clamps an overlap above half the chunk size so it still makes progress', () => {
    const chunks = chunkText(prose(50), { maxChunkSizeTokens: 100, chunkOverlapTokens: 500 });
    expect(chunks.length).toBeLessThan(20);
    expect(new Set(chunks).size).toBe(chunks.length);
  });

  it('counts CJK characters as about a token each and never splits surrogate pairs', () => {
    const cjk = '向量存储搜索测试。'.repeat(100);
    const chunks = chunkText(cjk, { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 });
    expect(chunks.join('')).toBe(cjk);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(100);

    const emoji = '😀🎉'.repeat(200);
    const pieces = chunkText(emoji, { maxChunkSizeTokens: 101, chunkOverlapTokens: 33 });
    expect(pieces.length).toBeGreaterThan(3);
    for (const piece of pieces) {
      expect(piece).not.toMatch(/\p{Cs}/u); // no lone surrogates
      expect([...piece].length).toBeLessThanOrEqual(101);
    }
  });

  it('handles accented Latin text', () => {
    const text = 'Le café est très agréable à Montréal. '.repeat(40);
    const chunks = chunkText(text, { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 });
    expect(chunks.flatMap(words)).toEqual(words(text));
  });
});

describe('matchesFilter', () => {
  const attributes: Record<string, AttributeValue> = {
    author: 'ada',
    year: 2024,
    draft: false,
    published: '2024-05-01',
  };
  const match = (filter: AttributeFilter, attrs: Record<string, AttributeValue> | null = attributes) =>
    matchesFilter(filter, attrs);

  it.each<[AttributeFilter, boolean]>([
    [{ type: 'eq', key: 'author', value: 'ada' }, true],
    [{ type: 'eq', key: 'author', value: 'Ada' }, false],
    [{ type: 'eq', key: 'year', value: 2024 }, true],
    [{ type: 'eq', key: 'draft', value: false }, true],
    [{ type: 'ne', key: 'author', value: 'bob' }, true],
    [{ type: 'ne', key: 'author', value: 'ada' }, false],
    [{ type: 'ne', key: 'draft', value: true }, true],
    [{ type: 'gt', key: 'year', value: 2023 }, true],
    [{ type: 'gt', key: 'year', value: 2024 }, false],
    [{ type: 'gte', key: 'year', value: 2024 }, true],
    [{ type: 'lt', key: 'year', value: 2025 }, true],
    [{ type: 'lt', key: 'year', value: 2024 }, false],
    [{ type: 'lte', key: 'year', value: 2024 }, true],
    [{ type: 'gt', key: 'published', value: '2024-04-30' }, true],
    [{ type: 'lt', key: 'published', value: '2024-04-30' }, false],
    [{ type: 'gte', key: 'author', value: 'ada' }, true],
    [{ type: 'in', key: 'author', value: ['bob', 'ada'] }, true],
    [{ type: 'in', key: 'year', value: [2023, 2024] }, true],
    [{ type: 'in', key: 'author', value: ['bob'] }, false],
    [{ type: 'in', key: 'author', value: [] }, false],
    [{ type: 'nin', key: 'author', value: ['bob'] }, true],
    [{ type: 'nin', key: 'author', value: ['ada', 'bob'] }, false],
    [{ type: 'nin', key: 'year', value: [] }, true],
  ])('%j -> %s', (filter, expected) => {
    expect(match(filter)).toBe(expected);
  });

  it.each<AttributeFilter>([
    { type: 'eq', key: 'year', value: '2024' },
    { type: 'ne', key: 'year', value: '2023' },
    { type: 'gt', key: 'year', value: '2000' },
    { type: 'lte', key: 'author', value: 9 },
    { type: 'gt', key: 'draft', value: false },
    { type: 'gte', key: 'draft', value: false },
    { type: 'in', key: 'year', value: ['2024'] },
    { type: 'in', key: 'draft', value: [0] },
    { type: 'nin', key: 'draft', value: ['x'] },
  ])('never matches across types: %j', (filter) => {
    expect(match(filter)).toBe(false);
  });

  it.each<AttributeFilter>([
    { type: 'eq', key: 'missing', value: 'x' },
    { type: 'ne', key: 'missing', value: 'x' },
    { type: 'lt', key: 'missing', value: 1 },
    { type: 'in', key: 'missing', value: ['x'] },
    { type: 'nin', key: 'missing', value: ['x'] },
    { type: 'eq', key: 'constructor', value: 'x' },
    { type: 'ne', key: 'toString', value: 'x' },
  ])('never matches a missing key: %j', (filter) => {
    expect(match(filter)).toBe(false);
    expect(match(filter, null)).toBe(false);
    expect(match(filter, {})).toBe(false);
  });

  it('combines nested and/or', () => {
    const recent: AttributeFilter = { type: 'gte', key: 'year', value: 2024 };
    const byAda: AttributeFilter = { type: 'eq', key: 'author', value: 'ada' };
    const byBob: AttributeFilter = { type: 'eq', key: 'author', value: 'bob' };
    expect(match({ type: 'and', filters: [recent, byAda] })).toBe(true);
    expect(match({ type: 'and', filters: [recent, byBob] })).toBe(false);
    expect(match({ type: 'or', filters: [byBob, byAda] })).toBe(true);
    expect(match({ type: 'or', filters: [byBob, { type: 'eq', key: 'missing', value: 1 }] })).toBe(false);
    expect(
      match({
        type: 'and',
        filters: [
          {
            type: 'or',
            filters: [byBob, { type: 'and', filters: [byAda, { type: 'eq', key: 'draft', value: false }] }],
          },
          { type: 'nin', key: 'year', value: [2020, 2021] },
        ],
      }),
    ).toBe(true);
  });

  it('treats empty compounds as vacuous', () => {
    expect(match({ type: 'and', filters: [] })).toBe(true);
    expect(match({ type: 'or', filters: [] })).toBe(false);
  });
});

describe('validateFilter', () => {
  it.each<unknown>([
    { type: 'eq', key: 'a', value: 'x' },
    { type: 'lt', key: 'a', value: 3.5 },
    { type: 'ne', key: 'a', value: true },
    { type: 'in', key: 'a', value: ['x', 1] },
    { type: 'nin', key: 'a', value: [] },
    { type: 'and', filters: [] },
    { type: 'or', filters: [{ type: 'and', filters: [{ type: 'eq', key: 'a', value: 1 }] }] },
  ])('accepts %j', (filter) => {
    expect(validateFilter(filter)).toBeNull();
  });

  it.each<[unknown, string, string]>([
    ['eq', 'filters', "Invalid type for 'filters': expected an object, but got a string instead."],
    [null, 'filters', "Invalid type for 'filters': expected an object, but got null instead."],
    [[], 'filters', "Invalid type for 'filters': expected an object, but got an array instead."],
    [{ key: 'a', value: 1 }, 'filters.type', "Missing required parameter: 'filters.type'."],
    [
      { type: 1, key: 'a', value: 1 },
      'filters.type',
      "Invalid type for 'filters.type': expected a string, but got a number instead.",
    ],
    [
      { type: 'xyz', key: 'a', value: 1 },
      'filters.type',
      "Invalid value: 'xyz'. Supported values are: 'eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'and', and 'or'.",
    ],
    [
      { type: 'and', filters: [{ type: 'eq', key: 'a', value: 1 }, { type: 'xyz' }] },
      'filters.filters[1].type',
      "Invalid value: 'xyz'. Supported values are: 'eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'and', and 'or'.",
    ],
    [{ type: 'eq', value: 1 }, 'filters.key', "Missing required parameter: 'filters.key'."],
    [{ type: 'eq', key: 'a' }, 'filters.value', "Missing required parameter: 'filters.value'."],
    [{ type: 'and' }, 'filters.filters', "Missing required parameter: 'filters.filters'."],
    [
      { type: 'eq', key: 7, value: 1 },
      'filters.key',
      "Invalid type for 'filters.key': expected a string, but got a number instead.",
    ],
    [
      { type: 'eq', key: 'a', value: { nested: true } },
      'filters.value',
      "Invalid type for 'filters.value': expected one of a string, a number, or a boolean, but got an object instead.",
    ],
    [
      { type: 'gt', key: 'a', value: [1] },
      'filters.value',
      "Invalid type for 'filters.value': expected one of a string, a number, or a boolean, but got an array instead.",
    ],
    [
      { type: 'in', key: 'a', value: 'x' },
      'filters.value',
      "Invalid type for 'filters.value': expected an array, but got a string instead.",
    ],
    [
      { type: 'nin', key: 'a', value: ['x', true] },
      'filters.value[1]',
      "Invalid type for 'filters.value[1]': expected one of a string or a number, but got a boolean instead.",
    ],
    [
      { type: 'or', filters: { type: 'eq', key: 'a', value: 1 } },
      'filters.filters',
      "Invalid type for 'filters.filters': expected an array, but got an object instead.",
    ],
    [{ type: 'eq', key: 'a', value: 1, extra: 1 }, 'filters.extra', "Unknown parameter: 'filters.extra'."],
    [{ type: 'and', filters: [], key: 'a' }, 'filters.key', "Unknown parameter: 'filters.key'."],
  ])('rejects %j at %s', (filter, param, message) => {
    expect(validateFilter(filter)).toEqual({ param, message });
  });

  it('prefixes paths with the given root', () => {
    expect(
      validateFilter({ type: 'or', filters: [{ type: 'in', key: 'a', value: 1 }] }, 'body.filters'),
    ).toEqual({
      param: 'body.filters.filters[0].value',
      message:
        "Invalid type for 'body.filters.filters[0].value': expected an array, but got a number instead.",
    });
  });

  it('bounds nesting depth', () => {
    const nest = (levels: number): unknown => {
      let filter: unknown = { type: 'eq', key: 'a', value: 1 };
      for (let i = 1; i < levels; i++) filter = { type: 'and', filters: [filter] };
      return filter;
    };
    expect(validateFilter(nest(10))).toBeNull();
    const deepPath = `filters${'.filters[0]'.repeat(10)}`;
    expect(validateFilter(nest(11))).toEqual({
      param: deepPath,
      message: `Invalid '${deepPath}': filters are nested too deeply. Expected a maximum depth of 10.`,
    });
  });

  it('bounds list sizes and the total number of filters', () => {
    const values = Array.from({ length: 1001 }, (_, i) => i);
    expect(validateFilter({ type: 'in', key: 'a', value: values })).toEqual({
      param: 'filters.value',
      message:
        "Invalid 'filters.value': array too long. Expected an array with maximum length 1000, but got an array with length 1001 instead.",
    });
    const leaves = Array.from({ length: 1000 }, () => ({ type: 'eq', key: 'a', value: 1 }));
    expect(validateFilter({ type: 'or', filters: leaves.slice(1) })).toBeNull();
    expect(validateFilter({ type: 'or', filters: leaves })).toEqual({
      param: 'filters',
      message: "Invalid 'filters': too many filters. Expected at most 1000 filters in total.",
    });
  });
});

describe('rankChunks', () => {
  const chunks = [
    { key: 'weather', text: 'The weather is sunny and warm today.' },
    {
      key: 'pricing',
      text: 'Vector store pricing: the first gigabyte is free, then storage is billed per day.',
    },
    {
      key: 'limits',
      text: 'A vector store holds up to ten thousand files; search returns at most fifty results.',
    },
    { key: 'cooking', text: 'Boil the pasta for nine minutes, then drain it and add the sauce.' },
  ];

  it('puts the relevant chunk first and drops unrelated ones', () => {
    const ranked = rankChunks(['pricing of vector store storage'], chunks);
    expect(ranked.map((r) => r.key)).toEqual(['pricing', 'limits']);
    for (const { score } of ranked) {
      expect(score).toBeGreaterThan(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    expect(ranked[0]!.score).toBeGreaterThan(ranked[1]!.score);
  });

  it('scores a chunk identical to the query at 1 and caps stronger matches at 1', () => {
    const ranked = rankChunks(
      ['sunny weather'],
      [
        ...chunks,
        { key: 'same', text: 'Sunny weather!' },
        { key: 'more', text: 'sunny sunny sunny weather weather' },
      ],
    );
    expect(ranked.find((r) => r.key === 'same')?.score).toBeCloseTo(1, 12);
    expect(ranked[0]).toEqual({ key: 'more', score: 1 });
    expect(ranked[1]?.key).toBe('same');
    expect(ranked.at(-1)?.key).toBe('weather');
  });

  it('is case-insensitive, unicode-aware and strips simple plurals', () => {
    const docs = [
      { key: 'fr', text: 'Le CAFÉ de Montréal' },
      { key: 'ja', text: 'ベクトルストアの検索機能' },
      { key: 'en', text: 'Uploading files to stores' },
    ];
    expect(rankChunks(['café montréal'], docs).map((r) => r.key)).toEqual(['fr']);
    expect(rankChunks(['検索'], docs).map((r) => r.key)).toEqual(['ja']);
    expect(rankChunks(['file store'], docs).map((r) => r.key)).toEqual(['en']);
  });

  it('keeps the best score over several queries', () => {
    const ranked = rankChunks(['pasta sauce', 'sunny weather'], chunks);
    expect(ranked.map((r) => r.key).sort()).toEqual(['cooking', 'weather']);
    const single = (query: string, key: string) =>
      rankChunks([query], chunks).find((r) => r.key === key)?.score;
    expect(ranked.find((r) => r.key === 'cooking')?.score).toBe(single('pasta sauce', 'cooking'));
    expect(ranked.find((r) => r.key === 'weather')?.score).toBe(single('sunny weather', 'weather'));
  });

  it('applies the score threshold', () => {
    const all = rankChunks(['vector store pricing'], chunks);
    expect(all.length).toBe(2);
    const cutoff = (all[0]!.score + all[1]!.score) / 2;
    expect(rankChunks(['vector store pricing'], chunks, { scoreThreshold: cutoff })).toEqual([all[0]]);
    expect(rankChunks(['vector store pricing'], chunks, { scoreThreshold: 1 })).toEqual([]);
  });

  it('breaks ties by input order and is deterministic', () => {
    const twins = [
      { key: 'b', text: 'vector store' },
      { key: 'a', text: 'vector store' },
      { key: 'c', text: 'unrelated text' },
    ];
    const ranked = rankChunks(['vector'], twins);
    expect(ranked.map((r) => r.key)).toEqual(['b', 'a']);
    expect(ranked[0]!.score).toBe(ranked[1]!.score);
    expect(rankChunks(['vector store pricing'], chunks)).toEqual(
      rankChunks(['vector store pricing'], chunks),
    );
  });

  it('returns nothing for empty inputs or queries without terms', () => {
    expect(rankChunks(['vector'], [])).toEqual([]);
    expect(rankChunks([], chunks)).toEqual([]);
    expect(rankChunks(['?!'], chunks)).toEqual([]);
  });
});
