/**
 * Chunking strategies on every way in (store create with file_ids, attach, batch with file_ids,
 * batch with per-file `files`), how the file objects report them, and that search really chunks
 * by them. The emulator counts tokens approximately (about four Latin characters per token; see
 * chunkText in src/emulator/search.ts), so chunk counts are compared with chunkText itself.
 */
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { chunkText } from '../../src/emulator/search.ts';
import { type Harness, startEmulator, uploadText } from './helpers.ts';

const staticStrategy = (max: number, overlap: number) => ({
  type: 'static' as const,
  static: { max_chunk_size_tokens: max, chunk_overlap_tokens: overlap },
});
/** What `auto` currently means and how every recording reports it. */
const AUTO_AS_REPORTED = staticStrategy(800, 400);

/** About 15,000 characters, with "vector" in every sentence so every chunk matches a search for it. */
const LONG_TEXT = Array.from(
  { length: 300 },
  (_, i) => `Sentence ${i} is about vector stores and chunking.`,
).join(' ');

async function chunksFound(client: OpenAI, storeId: string, fileId: string): Promise<string[]> {
  const page = await client.vectorStores.search(storeId, { query: 'vector', max_num_results: 50 });
  return page.data.filter((result) => result.file_id === fileId).map((result) => result.content[0]!.text);
}

async function strategies(client: OpenAI, storeId: string): Promise<Map<string, unknown>> {
  const files = await client.vectorStores.files.list(storeId, { limit: 100 });
  return new Map(files.data.map((file) => [file.id, file.chunking_strategy]));
}

let h: Harness;

describe('chunking_strategy', () => {
  it('on store create applies to its file_ids, shows on each file, and drives chunking (static 400/100)', async () => {
    // Recorded with 1200/250: openai-dotnet VectorStoresTests/CanApplyChunkingStrategy(Static).
    h = await startEmulator();
    const long = await uploadText(h.client, 'long.txt', LONG_TEXT);
    const short = await uploadText(h.client, 'short.md', 'A short vector note.');
    const store = await h.client.vectorStores.create({
      file_ids: [long.id, short.id],
      chunking_strategy: staticStrategy(400, 100),
    });
    expect(store).not.toHaveProperty('chunking_strategy'); // the store object has no such field
    expect(await strategies(h.client, store.id)).toEqual(
      new Map([
        [long.id, staticStrategy(400, 100)],
        [short.id, staticStrategy(400, 100)],
      ]),
    );

    const expected = chunkText(LONG_TEXT, { maxChunkSizeTokens: 400, chunkOverlapTokens: 100 });
    const found = await chunksFound(h.client, store.id, long.id);
    expect(found.length).toBe(expected.length);
    expect(new Set(found)).toEqual(new Set(expected));
    // At most 400 tokens of about four characters each, and the overlap shows up.
    for (const chunk of found) expect(chunk.length).toBeLessThanOrEqual(1600);
    expect(expected[0]!.includes(expected[1]!.slice(0, 200))).toBe(true);

    // The store-level strategy was for the create-time files only (openai/openai-python#2380).
    const later = await uploadText(h.client, 'later.txt', LONG_TEXT);
    const attached = await h.client.vectorStores.files.create(store.id, { file_id: later.id });
    expect(attached.chunking_strategy).toEqual(AUTO_AS_REPORTED);
    const laterChunks = await chunksFound(h.client, store.id, later.id);
    expect(laterChunks.length).toBe(
      chunkText(LONG_TEXT, { maxChunkSizeTokens: 800, chunkOverlapTokens: 400 }).length,
    );
    expect(laterChunks.length).toBeLessThan(found.length);
  });

  it('auto, or none at all, is reported as static 800/400 on every way in', async () => {
    // CanApplyChunkingStrategy(Auto) for create, CanAssociateFiles for a bare attach,
    // CanTestGetVectorStoreFilesInBatchCollectionOptions for a batch of file_ids.
    h = await startEmulator();
    const [a, b, c, d] = await Promise.all(
      ['a', 'b', 'c', 'd'].map((name) => uploadText(h.client, `${name}.txt`, LONG_TEXT)),
    );
    const store = await h.client.vectorStores.create({
      file_ids: [a!.id],
      chunking_strategy: { type: 'auto' },
    });
    await h.client.vectorStores.files.create(store.id, { file_id: b!.id });
    await h.client.vectorStores.fileBatches.create(store.id, { file_ids: [c!.id] });
    await h.client.vectorStores.fileBatches.create(store.id, { files: [{ file_id: d!.id }] });
    const reported = await strategies(h.client, store.id);
    expect([...reported.values()]).toEqual(Array(4).fill(AUTO_AS_REPORTED));
  });

  it('on attach shows and drives chunking per file', async () => {
    h = await startEmulator();
    const file = await uploadText(h.client, 'long.txt', LONG_TEXT);
    const store = await h.client.vectorStores.create({});
    const attached = await h.client.vectorStores.files.create(store.id, {
      file_id: file.id,
      chunking_strategy: staticStrategy(200, 0),
    });
    expect(attached.chunking_strategy).toEqual(staticStrategy(200, 0));
    const found = await chunksFound(h.client, store.id, file.id);
    expect(found.length).toBe(
      chunkText(LONG_TEXT, { maxChunkSizeTokens: 200, chunkOverlapTokens: 0 }).length,
    );
    // No overlap: the chunks tile the text.
    expect(found.join(' ').length).toBeLessThanOrEqual(LONG_TEXT.length);
  });

  it('on a batch: the top-level strategy applies to file_ids; with files, each entry brings its own', async () => {
    h = await startEmulator();
    const [a, b, c, d] = await Promise.all(
      ['a', 'b', 'c', 'd'].map((name) => uploadText(h.client, `${name}.txt`, LONG_TEXT)),
    );
    const store = await h.client.vectorStores.create({});
    const first = await h.client.vectorStores.fileBatches.create(store.id, {
      file_ids: [a!.id, b!.id],
      attributes: { source: 'top' },
      chunking_strategy: staticStrategy(300, 150),
    });
    // The spec: with `files`, "the global attributes or chunking_strategy will be ignored".
    const second = await h.client.vectorStores.fileBatches.create(store.id, {
      files: [
        { file_id: c!.id, attributes: { n: 1 }, chunking_strategy: staticStrategy(1000, 500) },
        { file_id: d!.id },
      ],
      attributes: { source: 'ignored' },
      chunking_strategy: staticStrategy(100, 50),
    });
    const listed = async (batchId: string) =>
      (
        await h.client.vectorStores.fileBatches.listFiles(batchId, {
          vector_store_id: store.id,
          order: 'asc',
        })
      ).data.map((file) => [file.id, file.attributes, file.chunking_strategy]);
    expect(await listed(first.id)).toEqual([
      [a!.id, { source: 'top' }, staticStrategy(300, 150)],
      [b!.id, { source: 'top' }, staticStrategy(300, 150)],
    ]);
    expect(await listed(second.id)).toEqual([
      [c!.id, { n: 1 }, staticStrategy(1000, 500)],
      [d!.id, {}, AUTO_AS_REPORTED],
    ]);
    expect((await chunksFound(h.client, store.id, c!.id)).length).toBe(
      chunkText(LONG_TEXT, { maxChunkSizeTokens: 1000, chunkOverlapTokens: 500 }).length,
    );
  });

  it('is validated the same way on all four ways in, per the spec bounds', async () => {
    // StaticChunkingStrategy: max_chunk_size_tokens 100..4096; the overlap "must not exceed half
    // of max_chunk_size_tokens". No recording of these errors exists; the wording is OpenAI's
    // usual one for each kind of mistake.
    h = await startEmulator();
    const file = await uploadText(h.client, 'a.txt', 'x');
    const store = await h.client.vectorStores.create({});
    const ways: Array<[string, (strategy: unknown) => Record<string, unknown>, string]> = [
      ['/vector_stores', (s) => ({ file_ids: [file.id], chunking_strategy: s }), 'chunking_strategy'],
      [
        `/vector_stores/${store.id}/files`,
        (s) => ({ file_id: file.id, chunking_strategy: s }),
        'chunking_strategy',
      ],
      [
        `/vector_stores/${store.id}/file_batches`,
        (s) => ({ file_ids: [file.id], chunking_strategy: s }),
        'chunking_strategy',
      ],
      [
        `/vector_stores/${store.id}/file_batches`,
        (s) => ({ files: [{ file_id: file.id, chunking_strategy: s }] }),
        'files[0].chunking_strategy',
      ],
    ];
    const cases: Array<[unknown, string, string]> = [
      [staticStrategy(99, 0), '.static.max_chunk_size_tokens', 'integer_below_min_value'],
      [staticStrategy(4097, 0), '.static.max_chunk_size_tokens', 'integer_above_max_value'],
      [staticStrategy(800, 401), '.static.chunk_overlap_tokens', 'invalid_value'],
      [staticStrategy(101, 51), '.static.chunk_overlap_tokens', 'invalid_value'],
      [staticStrategy(800, -1), '.static.chunk_overlap_tokens', 'integer_below_min_value'],
      [staticStrategy(800.5, 0), '.static.max_chunk_size_tokens', 'invalid_type'],
      [{ type: 'static' }, '.static', 'missing_required_parameter'],
      [
        { type: 'static', static: { max_chunk_size_tokens: 800 } },
        '.static.chunk_overlap_tokens',
        'missing_required_parameter',
      ],
      [{ type: 'other' }, '.type', 'invalid_value'],
      [{ type: 'auto', static: {} }, '.static', 'unknown_parameter'],
      [{}, '.type', 'missing_required_parameter'],
      ['auto', '', 'invalid_type'],
    ];
    for (const [path, body, prefix] of ways) {
      for (const [strategy, suffix, code] of cases) {
        const response = await h.api(path, { method: 'POST', json: body(strategy) });
        const { error } = (await response.json()) as { error: Record<string, unknown> };
        expect(response.status, `${path} ${JSON.stringify(strategy)}`).toBe(400);
        expect(error, `${path} ${JSON.stringify(strategy)}`).toMatchObject({
          param: `${prefix}${suffix}`,
          code,
        });
      }
      // The bounds themselves are allowed, overlap at exactly half included.
      for (const strategy of [staticStrategy(100, 50), staticStrategy(4096, 2048), staticStrategy(101, 50)]) {
        const response = await h.api(path, { method: 'POST', json: body(strategy) });
        expect(response.status, `${path} ${JSON.stringify(strategy)}`).toBe(200);
      }
    }
    const overlap = await h.api(`/vector_stores/${store.id}/files`, {
      method: 'POST',
      json: { file_id: file.id, chunking_strategy: staticStrategy(800, 401) },
    });
    expect(((await overlap.json()) as { error: { message: string } }).error.message).toBe(
      "Invalid 'chunking_strategy.static.chunk_overlap_tokens': chunk_overlap_tokens must not exceed half of max_chunk_size_tokens. Expected a value <= 400, but got 401 instead.",
    );
  });
});

describe('file batches with files', () => {
  it('refuses file_ids and files together, and needs one of them (the spec: mutually exclusive)', async () => {
    h = await startEmulator();
    const file = await uploadText(h.client, 'a.txt', 'x');
    const store = await h.client.vectorStores.create({});
    const create = async (json: unknown) => {
      const response = await h.api(`/vector_stores/${store.id}/file_batches`, { method: 'POST', json });
      return { status: response.status, body: (await response.json()) as { error: Record<string, unknown> } };
    };
    expect(await create({ file_ids: [file.id], files: [{ file_id: file.id }] })).toMatchObject({
      status: 400,
      body: { error: { param: 'files', code: 'invalid_value' } },
    });
    expect(await create({})).toMatchObject({
      status: 400,
      body: { error: { param: 'file_ids', code: 'missing_required_parameter' } },
    });
    expect(await create({ files: [] })).toMatchObject({
      status: 400,
      body: { error: { param: 'files', code: 'empty_array' } },
    });
    expect(await create({ files: [{ attributes: {} }] })).toMatchObject({
      status: 400,
      body: { error: { param: 'files[0].file_id', code: 'missing_required_parameter' } },
    });
    expect(await create({ files: [{ file_id: file.id, colour: 'red' }] })).toMatchObject({
      status: 400,
      body: { error: { param: 'files[0].colour', code: 'unknown_parameter' } },
    });
    expect(await create({ files: [{ file_id: 'file-missing' }] })).toMatchObject({
      status: 404,
      body: { error: { param: 'files[0].file_id' } },
    });
    expect(h.emulator.inspect().vectorStores).toBe(1);
    expect((await h.client.vectorStores.retrieve(store.id)).file_counts.total).toBe(0);
  });

  it('attaches each file with its own attributes, once even if listed twice', async () => {
    h = await startEmulator();
    const a = await uploadText(h.client, 'a.txt', 'alpha');
    const b = await uploadText(h.client, 'b.txt', 'beta');
    const store = await h.client.vectorStores.create({});
    const batch = await h.client.vectorStores.fileBatches.create(store.id, {
      files: [
        { file_id: a.id, attributes: { lang: 'en', year: 2026, draft: false } },
        { file_id: b.id, attributes: { lang: 'de' } },
        { file_id: a.id, attributes: { lang: 'fr' } },
      ],
    });
    expect(batch.file_counts).toMatchObject({ in_progress: 2, total: 2 });
    const results = await h.client.vectorStores.search(store.id, {
      query: ['alpha', 'beta'],
      filters: { type: 'eq', key: 'lang', value: 'en' },
    });
    expect(results.data.map((result) => [result.file_id, result.attributes])).toEqual([
      [a.id, { lang: 'en', year: 2026, draft: false }],
    ]);
  });
});
