/** Processing, derived status and counts, expiry and search, driven by a fake clock. */

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/clock.ts';
import { startEmulator, uploadText } from './helpers.ts';

async function setup(options: { processingDelayMs?: number } = {}) {
  const clock = new ManualClock();
  const harness = await startEmulator({ clock, processingDelayMs: options.processingDelayMs ?? 1000 });
  return { clock, ...harness };
}

describe('processing', () => {
  it('keeps an attached file in_progress until the delay has passed, then derives everything from it', async () => {
    const { client, clock } = await setup();
    const file = await uploadText(client, 'a.txt', 'hello');
    const store = await client.vectorStores.create({ name: 's', file_ids: [file.id] });
    expect(store).toMatchObject({
      status: 'in_progress',
      usage_bytes: 0,
      file_counts: { in_progress: 1, total: 1 },
    });

    clock.advance(999);
    const attached = await client.vectorStores.files.retrieve(file.id, { vector_store_id: store.id });
    expect(attached).toMatchObject({ status: 'in_progress', usage_bytes: 0 });

    clock.advance(1);
    expect(await client.vectorStores.files.retrieve(file.id, { vector_store_id: store.id })).toMatchObject({
      status: 'completed',
      usage_bytes: 5,
    });
    expect(await client.vectorStores.retrieve(store.id)).toMatchObject({
      status: 'completed',
      usage_bytes: 5,
      file_counts: { in_progress: 0, completed: 1, failed: 0, cancelled: 0, total: 1 },
    });
  });

  it('reports the create response in_progress even with zero delay, and completed on read-back', async () => {
    const { client } = await setup({ processingDelayMs: 0 });
    const file = await uploadText(client, 'a.txt', 'hello');
    const store = await client.vectorStores.create({ name: 's' });
    const attached = await client.vectorStores.files.create(store.id, { file_id: file.id });
    expect(attached.status).toBe('in_progress');
    expect((await client.vectorStores.files.retrieve(file.id, { vector_store_id: store.id })).status).toBe(
      'completed',
    );
  });

  it('fails files that file_search cannot index, with last_error', async () => {
    const { client, clock, api } = await setup({ processingDelayMs: 0 });
    const store = await client.vectorStores.create({ name: 's' });
    const binary = new FormData();
    binary.set('purpose', 'assistants');
    binary.set('file', new File([new Uint8Array([0xff, 0xfe, 0xfd, 0x00, 0xc3])], 'broken.md'));
    const notUtf8 = (await (await api('/files', { method: 'POST', body: binary })).json()) as { id: string };
    const cases = [
      { id: (await uploadText(client, 'image.png', 'x')).id, code: 'unsupported_file' },
      { id: (await uploadText(client, 'noext', 'x')).id, code: 'unsupported_file' },
      { id: (await uploadText(client, 'empty.txt', '')).id, code: 'invalid_file' },
      { id: notUtf8.id, code: 'invalid_file' },
    ];
    const ok = await uploadText(client, 'fine.json', '{"a":1}');
    const batch = await client.vectorStores.fileBatches.create(store.id, {
      file_ids: [...cases.map((c) => c.id), ok.id],
    });
    clock.advance(1);
    for (const { id, code } of cases) {
      const file = await client.vectorStores.files.retrieve(id, { vector_store_id: store.id });
      expect(file, id).toMatchObject({ status: 'failed', usage_bytes: 0, last_error: { code } });
      expect(file.last_error?.message).toEqual(expect.any(String));
    }
    expect(
      await client.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id }),
    ).toMatchObject({
      status: 'completed',
      file_counts: { completed: 1, failed: 4, total: 5 },
    });
    const failed = await client.vectorStores.files.list(store.id, { filter: 'failed' });
    expect(failed.data).toHaveLength(4);

    const allFailed = await client.vectorStores.fileBatches.create(store.id, { file_ids: [cases[0]!.id] });
    expect(
      (await client.vectorStores.fileBatches.retrieve(allFailed.id, { vector_store_id: store.id })).status,
    ).toBe('failed');
  });

  it('holds processing until released, then finishes held files', async () => {
    const { client, clock, emulator } = await setup({ processingDelayMs: 0 });
    const done = await uploadText(client, 'done.txt', 'already processed');
    const store = await client.vectorStores.create({ name: 's', file_ids: [done.id] });
    emulator.setProcessing({ hold: true });
    const held = await uploadText(client, 'held.txt', 'waiting');
    await client.vectorStores.files.create(store.id, { file_id: held.id });
    clock.advance(60_000);
    expect(await client.vectorStores.retrieve(store.id)).toMatchObject({
      status: 'in_progress',
      file_counts: { completed: 1, in_progress: 1 },
    });
    emulator.setProcessing({ hold: false });
    expect(await client.vectorStores.retrieve(store.id)).toMatchObject({
      status: 'completed',
      file_counts: { completed: 2, in_progress: 0 },
    });
  });

  it('cancels only the unfinished files of a batch', async () => {
    const { client, clock } = await setup({ processingDelayMs: 1000 });
    const store = await client.vectorStores.create({ name: 's' });
    const early = await uploadText(client, 'early.txt', 'early');
    const late = await uploadText(client, 'late.txt', 'late');
    const first = await client.vectorStores.fileBatches.create(store.id, { file_ids: [early.id] });
    clock.advance(1000);
    const second = await client.vectorStores.fileBatches.create(store.id, { file_ids: [late.id] });
    expect(
      (await client.vectorStores.fileBatches.cancel(first.id, { vector_store_id: store.id })).status,
    ).toBe('completed');
    const cancelled = await client.vectorStores.fileBatches.cancel(second.id, { vector_store_id: store.id });
    expect(cancelled).toMatchObject({ status: 'cancelled', file_counts: { cancelled: 1, total: 1 } });
    clock.advance(10_000);
    expect((await client.vectorStores.files.retrieve(late.id, { vector_store_id: store.id })).status).toBe(
      'cancelled',
    );
    expect(await client.vectorStores.retrieve(store.id)).toMatchObject({
      status: 'completed',
      usage_bytes: 5,
      file_counts: { completed: 1, cancelled: 1, total: 2 },
    });
  });

  it('deleting a File detaches it from every store; detaching or deleting a store keeps Files', async () => {
    const { client, emulator } = await setup({ processingDelayMs: 0 });
    const file = await uploadText(client, 'shared.txt', 'shared');
    const other = await uploadText(client, 'other.txt', 'other');
    const one = await client.vectorStores.create({ name: 'one', file_ids: [file.id, other.id] });
    const two = await client.vectorStores.create({ name: 'two', file_ids: [file.id] });
    const batch = await client.vectorStores.fileBatches.create(two.id, { file_ids: [other.id] });

    await client.files.delete(file.id);
    expect((await client.vectorStores.retrieve(one.id)).file_counts).toMatchObject({
      total: 1,
      completed: 1,
    });
    expect((await client.vectorStores.retrieve(two.id)).file_counts).toMatchObject({ total: 1 });
    expect((await client.vectorStores.files.list(two.id)).data.map((f) => f.id)).toEqual([other.id]);

    await client.vectorStores.delete(two.id);
    expect(emulator.inspect()).toMatchObject({ files: 1, vectorStores: 1 });
    await expect(
      client.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: two.id }),
    ).rejects.toMatchObject({
      status: 404,
    });
  });

  it('re-attaching a file re-indexes it and moves it to the end of the list', async () => {
    const { client, clock } = await setup({ processingDelayMs: 0 });
    const a = await uploadText(client, 'a.txt', 'a');
    const b = await uploadText(client, 'b.txt', 'b');
    const store = await client.vectorStores.create({ name: 's', file_ids: [a.id, b.id] });
    clock.advance(2000);
    await client.vectorStores.files.create(store.id, { file_id: a.id, attributes: { v: 2 } });
    const list = await client.vectorStores.files.list(store.id, { order: 'asc' });
    expect(list.data.map((f) => [f.id, f.attributes])).toEqual([
      [b.id, {}],
      [a.id, { v: 2 }],
    ]);
    expect((await client.vectorStores.retrieve(store.id)).file_counts.total).toBe(2);
  });
});

describe('expiry', () => {
  it('computes expires_at from last_active_at, bumps it on use, and reports expired', async () => {
    const { client, clock } = await setup({ processingDelayMs: 0 });
    const store = await client.vectorStores.create({
      name: 's',
      expires_after: { anchor: 'last_active_at', days: 1 },
    });
    expect(store.expires_at).toBe(store.last_active_at! + 86_400);

    clock.advance(3600_000);
    expect((await client.vectorStores.retrieve(store.id)).last_active_at).toBe(store.last_active_at);
    await client.vectorStores.search(store.id, { query: 'anything' });
    const used = await client.vectorStores.retrieve(store.id);
    expect(used.last_active_at).toBe(store.last_active_at! + 3600);
    expect(used.expires_at).toBe(used.last_active_at! + 86_400);

    clock.advance(86_400_000);
    expect((await client.vectorStores.retrieve(store.id)).status).toBe('expired');
    await expect(client.vectorStores.search(store.id, { query: 'x' })).rejects.toMatchObject({
      status: 400,
      message: `400 Vector store '${store.id}' has expired.`,
    });

    const revived = await client.vectorStores.update(store.id, { expires_after: null });
    expect(revived).toMatchObject({ status: 'completed', expires_at: null, expires_after: null });
  });
});

describe('search', () => {
  it('ranks chunks of completed files, honours max_num_results, thresholds and filters', async () => {
    const { client, emulator } = await setup({ processingDelayMs: 0 });
    const cats = await uploadText(client, 'cats.txt', 'Cats purr and sleep in the sun. A cat chases mice.');
    const dogs = await uploadText(client, 'dogs.md', 'Dogs bark at the mail carrier and fetch sticks.');
    const store = await client.vectorStores.create({ name: 'pets' });
    await client.vectorStores.fileBatches.create(store.id, {
      files: [
        { file_id: cats.id, attributes: { kind: 'cat', legs: 4 } },
        { file_id: dogs.id, attributes: { kind: 'dog', legs: 4 } },
      ],
    });
    emulator.setProcessing({ hold: true });
    const pending = await uploadText(client, 'pending.txt', 'cats cats cats');
    await client.vectorStores.files.create(store.id, { file_id: pending.id });

    const cat = await client.vectorStores.search(store.id, { query: 'cat purr' });
    expect(cat.data.map((r) => r.file_id)).toEqual([cats.id]);
    expect(cat.data[0]).toMatchObject({ filename: 'cats.txt', attributes: { kind: 'cat', legs: 4 } });

    const both = await client.vectorStores.search(store.id, { query: ['cat', 'bark'], max_num_results: 1 });
    expect(both.data).toHaveLength(1);
    const all = await client.vectorStores.search(store.id, { query: ['cat', 'bark'] });
    expect(all.data.map((r) => r.file_id).sort()).toEqual([cats.id, dogs.id].sort());
    const scores = all.data.map((r) => r.score);
    expect(scores).toEqual([...scores].sort((x, y) => y - x));

    const filtered = await client.vectorStores.search(store.id, {
      query: ['cat', 'bark'],
      filters: {
        type: 'and',
        filters: [
          { type: 'gte', key: 'legs', value: 4 },
          { type: 'ne', key: 'kind', value: 'cat' },
        ],
      },
    });
    expect(filtered.data.map((r) => r.file_id)).toEqual([dogs.id]);
    const strict = await client.vectorStores.search(store.id, {
      query: 'cat',
      ranking_options: { score_threshold: 1 },
    });
    expect(strict.data.every((r) => r.score >= 1)).toBe(true);
  });

  it('honours the chunking strategy of each file', async () => {
    const { client } = await setup({ processingDelayMs: 0 });
    const words = Array.from({ length: 600 }, (_, i) => `word${i}`).join(' ');
    const file = await uploadText(client, 'long.txt', words);
    const store = await client.vectorStores.create({ name: 's' });
    await client.vectorStores.files.create(store.id, {
      file_id: file.id,
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 } },
    });
    const results = await client.vectorStores.search(store.id, { query: 'word5', max_num_results: 50 });
    expect(results.data.length).toBeGreaterThan(0);
    for (const result of results.data) expect(result.content[0]!.text.length).toBeLessThan(words.length / 2);
  });
});

describe('openai-poll-after-ms', () => {
  it('with pollAfterMs, steers the SDK poll helpers, which otherwise wait 5 s between polls', async () => {
    // The real clock: the SDK helper sleeps for real between polls. Processing is held, then
    // released after 300 ms, so the first poll always finds the file in progress.
    const { client, emulator } = await startEmulator({ processingDelayMs: 0, pollAfterMs: 20 });
    const file = await uploadText(client, 'a.txt', 'hello');
    const store = await client.vectorStores.create({ name: 's' });
    emulator.setProcessing({ hold: true });
    const release = setTimeout(() => emulator.setProcessing({ hold: false }), 300);
    const started = performance.now();
    try {
      const done = await client.vectorStores.files.createAndPoll(store.id, { file_id: file.id });
      expect(done.status).toBe('completed');
    } finally {
      clearTimeout(release);
    }
    expect(performance.now() - started).toBeLessThan(3000);
    const polls = emulator.stats().byRoute['GET /v1/vector_stores/{vector_store_id}/files/{file_id}'];
    expect(polls).toBeGreaterThanOrEqual(2);
  });

  it('rejects a negative or fractional pollAfterMs', async () => {
    await expect(startEmulator({ pollAfterMs: -1 })).rejects.toThrow(RangeError);
    await expect(startEmulator({ pollAfterMs: 1.5 })).rejects.toThrow(RangeError);
  });
});
