/**
 * POST /vector_stores/{id}/search and GET /vector_stores/{id}/files/{file_id}/content as the
 * spec describes them. No real traffic of either endpoint was ever recorded (openai-dotnet has no
 * test for them; ruby-openai's search cassette is fabricated), so these follow the spec's schemas:
 * VectorStoreSearchRequest, VectorStoreSearchResultsPage (search_query is an array) and
 * VectorStoreFileContentResponse.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startEmulator, uploadText } from './helpers.ts';

let h: Harness;
let storeId: string;
const ids: Record<string, string> = {};

beforeEach(async () => {
  h = await startEmulator();
  const files = {
    cats: ['cats.txt', 'Cats purr and sleep in the sun. A cat chases mice in the garden.'],
    dogs: ['dogs.md', 'Dogs bark at the mail carrier and fetch sticks in the garden.'],
    fish: ['fish.txt', 'Fish swim in the pond; the garden pond has three goldfish.'],
  } as const;
  for (const [key, [name, text]] of Object.entries(files))
    ids[key] = (await uploadText(h.client, name, text)).id;
  const store = await h.client.vectorStores.create({});
  storeId = store.id;
  await h.client.vectorStores.fileBatches.create(storeId, {
    files: [
      { file_id: ids.cats!, attributes: { kind: 'cat', legs: 4, pet: true } },
      { file_id: ids.dogs!, attributes: { kind: 'dog', legs: 4, pet: true } },
      { file_id: ids.fish!, attributes: { kind: 'fish', legs: 0, pet: false } },
    ],
  });
});

async function search(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await h.api(`/vector_stores/${storeId}/search`, { method: 'POST', json: body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const fileIds = (body: Record<string, unknown>) =>
  (body.data as Array<{ file_id: string }>).map((result) => result.file_id);

describe('search', () => {
  it('answers a page with search_query as an array, has_more false and next_page null', async () => {
    const single = await search({ query: 'cat purr' });
    expect(single.status).toBe(200);
    expect(Object.keys(single.body)).toEqual(['object', 'search_query', 'data', 'has_more', 'next_page']);
    expect(single.body).toMatchObject({
      object: 'vector_store.search_results.page',
      search_query: ['cat purr'],
      has_more: false,
      next_page: null,
    });
    const [first] = single.body.data as Array<Record<string, unknown>>;
    expect(Object.keys(first!)).toEqual(['file_id', 'filename', 'score', 'attributes', 'content']);
    expect(first).toMatchObject({
      file_id: ids.cats,
      filename: 'cats.txt',
      attributes: { kind: 'cat', legs: 4, pet: true },
      content: [{ type: 'text', text: 'Cats purr and sleep in the sun. A cat chases mice in the garden.' }],
    });

    const many = await search({ query: ['bark', 'goldfish'] });
    expect(many.body.search_query).toEqual(['bark', 'goldfish']);
    expect(new Set(fileIds(many.body))).toEqual(new Set([ids.dogs, ids.fish]));
  });

  it('accepts every documented ranker, and rejects others', async () => {
    for (const ranker of ['none', 'auto', 'default-2024-11-15']) {
      const { status, body } = await search({ query: 'garden', ranking_options: { ranker } });
      expect(status, ranker).toBe(200);
      expect(fileIds(body)).toHaveLength(3);
    }
    const { status, body } = await search({ query: 'garden', ranking_options: { ranker: 'best' } });
    expect(status).toBe(400);
    expect(body.error).toEqual({
      message: "Invalid value: 'best'. Supported values are: 'none', 'auto' and 'default-2024-11-15'.",
      type: 'invalid_request_error',
      param: 'ranking_options.ranker',
      code: 'invalid_value',
    });
  });

  it('drops results scoring below score_threshold (0..1)', async () => {
    const all = (await search({ query: 'cat garden pond' })).body.data as Array<{
      file_id: string;
      score: number;
    }>;
    expect(all.length).toBe(3);
    const scores = all.map((result) => result.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(new Set(scores).size).toBe(3);
    const cutoff = all[1]!.score;
    const kept = (await search({ query: 'cat garden pond', ranking_options: { score_threshold: cutoff } }))
      .body;
    expect(fileIds(kept)).toEqual(all.slice(0, 2).map((result) => result.file_id));
    const none = (await search({ query: 'cat garden pond', ranking_options: { score_threshold: 1 } })).body;
    expect(fileIds(none).length).toBeLessThan(3);

    for (const [threshold, code] of [
      [1.5, 'decimal_above_max_value'],
      [-0.1, 'decimal_below_min_value'],
      ['high', 'invalid_type'],
    ] as const) {
      const { status, body } = await search({ query: 'x', ranking_options: { score_threshold: threshold } });
      expect(status).toBe(400);
      expect(body.error).toMatchObject({ param: 'ranking_options.score_threshold', code });
    }
    const unknown = await search({ query: 'x', ranking_options: { boost: 2 } });
    expect(unknown.body.error).toMatchObject({ param: 'ranking_options.boost', code: 'unknown_parameter' });
  });

  it('filters on attributes with comparison and nested compound filters', async () => {
    const cases: Array<[unknown, string[]]> = [
      [{ type: 'eq', key: 'kind', value: 'dog' }, ['dogs']],
      [{ type: 'ne', key: 'kind', value: 'dog' }, ['cats', 'fish']],
      [{ type: 'gt', key: 'legs', value: 0 }, ['cats', 'dogs']],
      [{ type: 'lte', key: 'legs', value: 0 }, ['fish']],
      [{ type: 'eq', key: 'pet', value: false }, ['fish']],
      [{ type: 'in', key: 'kind', value: ['cat', 'fish'] }, ['cats', 'fish']],
      [{ type: 'nin', key: 'kind', value: ['cat', 'fish'] }, ['dogs']],
      [
        {
          type: 'or',
          filters: [
            { type: 'eq', key: 'kind', value: 'fish' },
            {
              type: 'and',
              filters: [
                { type: 'eq', key: 'pet', value: true },
                { type: 'ne', key: 'kind', value: 'cat' },
              ],
            },
          ],
        },
        ['dogs', 'fish'],
      ],
    ];
    for (const [filters, expected] of cases) {
      const page = await h.client.vectorStores.search(storeId, {
        query: 'garden',
        filters: filters as never,
      });
      expect(new Set(page.data.map((result) => result.file_id)), JSON.stringify(filters)).toEqual(
        new Set(expected.map((key) => ids[key])),
      );
    }
  });

  it('validates query, max_num_results and rewrite_query', async () => {
    const cases: Array<[unknown, string, string]> = [
      [{ query: [] }, 'query', 'empty_array'],
      [{ query: ['ok', 3] }, 'query[1]', 'invalid_type'],
      [{ query: 3 }, 'query', 'invalid_type'],
      [{ query: '   ' }, 'query', 'empty_string'],
      [{ query: 'x', max_num_results: 51 }, 'max_num_results', 'integer_above_max_value'],
      [{ query: 'x', rewrite_query: 'yes' }, 'rewrite_query', 'invalid_type'],
      [{ query: 'x', top_k: 3 }, 'top_k', 'unknown_parameter'],
    ];
    for (const [body, param, code] of cases) {
      const response = await search(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error, JSON.stringify(body)).toMatchObject({ param, code });
    }
    const rewritten = await search({ query: 'cat', rewrite_query: true, max_num_results: 1 });
    // The emulator has no model to rewrite with: it searches and echoes the query as given.
    expect(rewritten.body).toMatchObject({ search_query: ['cat'] });
    expect(fileIds(rewritten.body)).toEqual([ids.cats]);
  });
});

describe('vector store file content', () => {
  it('is one text item per file once processed, as a vector_store.file_content.page', async () => {
    const page = await h.client.vectorStores.files.content(ids.dogs!, { vector_store_id: storeId });
    expect(page.data).toEqual([
      { type: 'text', text: 'Dogs bark at the mail carrier and fetch sticks in the garden.' },
    ]);
    const raw = await h.api(`/vector_stores/${storeId}/files/${ids.dogs}/content`);
    expect(await raw.json()).toEqual({
      object: 'vector_store.file_content.page',
      data: [{ type: 'text', text: 'Dogs bark at the mail carrier and fetch sticks in the garden.' }],
      has_more: false,
      next_page: null,
    });
  });

  it('is empty while processing and for a file that failed, and 404 for a file not in the store', async () => {
    h.emulator.setProcessing({ hold: true });
    const pending = await uploadText(h.client, 'pending.txt', 'not yet');
    await h.client.vectorStores.files.create(storeId, { file_id: pending.id });
    const waiting = await h.client.vectorStores.files.content(pending.id, { vector_store_id: storeId });
    expect(waiting.data).toEqual([]);
    h.emulator.setProcessing({ hold: false });
    expect(
      (await h.client.vectorStores.files.content(pending.id, { vector_store_id: storeId })).data,
    ).toEqual([{ type: 'text', text: 'not yet' }]);

    const image = await uploadText(h.client, 'image.png', 'not an image');
    await h.client.vectorStores.files.create(storeId, { file_id: image.id });
    expect((await h.client.vectorStores.files.content(image.id, { vector_store_id: storeId })).data).toEqual(
      [],
    );

    const stranger = await uploadText(h.client, 'elsewhere.txt', 'x');
    await expect(
      h.client.vectorStores.files.content(stranger.id, { vector_store_id: storeId }),
    ).rejects.toMatchObject({ status: 404 });
  });
});
