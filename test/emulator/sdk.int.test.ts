/** The real `openai` 6.x SDK, end to end against the emulator. */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import OpenAI, { type APIError, toStreamingFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { createEmulator } from '../../src/emulator/index.ts';
import { listenEmulator, uploadText } from './helpers.ts';

describe('the openai SDK against the emulator', () => {
  it('works with the handler mounted in a server of its own', async () => {
    const emulator = createEmulator();
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/openai/')) {
        req.url = req.url.slice('/openai'.length);
        emulator.handle(req, res);
      } else {
        res.writeHead(418).end();
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const client = new OpenAI({
        apiKey: 'k',
        baseURL: `http://127.0.0.1:${port}/openai/v1`,
        maxRetries: 0,
      });
      const store = await client.vectorStores.create({ name: 'mounted' });
      expect(emulator.inspect().vectorStores).toBe(1);
      expect(emulator.stats().byRoute).toEqual({ 'POST /v1/vector_stores': 1 });
      expect(store.name).toBe('mounted');
    } finally {
      server.closeAllConnections();
      server.close();
      await emulator.close();
    }
  });

  it('manages vector stores: create, list, retrieve, update, delete', async () => {
    const { client } = await listenEmulator();
    const created = await client.vectorStores.create({ name: 'docs', metadata: { env: 'test' } });
    expect(created).toMatchObject({ object: 'vector_store', name: 'docs', status: 'completed' });
    expect(created._request_id).toMatch(/^req_[0-9a-f]{32}$/);

    const ids: string[] = [];
    for await (const store of client.vectorStores.list({ limit: 1 })) ids.push(store.id);
    expect(ids).toEqual([created.id]);

    const updated = await client.vectorStores.update(created.id, {
      name: 'renamed',
      metadata: { env: 'prod' },
    });
    expect(updated).toMatchObject({ name: 'renamed', metadata: { env: 'prod' } });
    expect(await client.vectorStores.retrieve(created.id)).toMatchObject({ name: 'renamed' });
    expect(await client.vectorStores.delete(created.id)).toMatchObject({ id: created.id, deleted: true });
    await expect(client.vectorStores.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('streams uploads with toStreamingFile, attaches, searches and reads content', async () => {
    const { client, emulator } = await listenEmulator();
    const text =
      'Relay cursors are opaque.\n\nThe emulator ranks chunks with BM25 and returns scores between 0 and 1.';
    const stream = Readable.from([Buffer.from(text.slice(0, 20)), Buffer.from(text.slice(20))]);
    const file = await client.files.create({
      file: toStreamingFile(stream, 'notes.md', { type: 'text/markdown' }),
      purpose: 'assistants',
    });
    expect(file).toMatchObject({ object: 'file', filename: 'notes.md', bytes: Buffer.byteLength(text) });
    expect(emulator.inspect()).toMatchObject({ files: 1, storedBytes: file.bytes, uploadsInFlight: 0 });

    const store = await client.vectorStores.create({ name: 'kb' });
    const attached = await client.vectorStores.files.create(store.id, {
      file_id: file.id,
      attributes: { topic: 'search' },
    });
    expect(attached.status).toBe('in_progress');
    const polled = await client.vectorStores.files.poll(store.id, file.id, { pollIntervalMs: 10 });
    expect(polled).toMatchObject({ status: 'completed', usage_bytes: file.bytes });

    const files = await client.vectorStores.files.list(store.id, { filter: 'completed' });
    expect(files.data.map((f) => f.id)).toEqual([file.id]);
    expect(
      await client.vectorStores.files.update(file.id, {
        vector_store_id: store.id,
        attributes: { topic: 'ranking' },
      }),
    ).toMatchObject({ attributes: { topic: 'ranking' } });

    const results = await client.vectorStores.search(store.id, {
      query: 'BM25 scores',
      filters: { type: 'eq', key: 'topic', value: 'ranking' },
    });
    expect(results.data[0]).toMatchObject({
      file_id: file.id,
      filename: 'notes.md',
      attributes: { topic: 'ranking' },
    });
    expect(results.data[0]!.score).toBeGreaterThan(0);
    expect(results.data[0]!.score).toBeLessThanOrEqual(1);
    const filteredOut = await client.vectorStores.search(store.id, {
      query: 'BM25',
      filters: { type: 'eq', key: 'topic', value: 'other' },
    });
    expect(filteredOut.data).toEqual([]);

    const content = await client.vectorStores.files.content(file.id, { vector_store_id: store.id });
    expect(content.data).toEqual([{ type: 'text', text }]);
    const raw = await client.files.content(file.id);
    expect(await raw.text()).toBe(text);

    expect(await client.vectorStores.files.delete(file.id, { vector_store_id: store.id })).toMatchObject({
      deleted: true,
    });
    expect(await client.files.retrieve(file.id)).toMatchObject({ id: file.id });
    expect(await client.files.delete(file.id)).toMatchObject({ id: file.id, deleted: true });
  });

  it('creates, polls and cancels file batches', async () => {
    const { client, emulator } = await listenEmulator();
    const a = await uploadText(client, 'a.txt', 'alpha');
    const b = await uploadText(client, 'b.txt', 'beta');
    const store = await client.vectorStores.create({ name: 'batches' });

    const done = await client.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: [a.id, b.id] });
    expect(done).toMatchObject({ status: 'completed', file_counts: { completed: 2, total: 2 } });
    const batchFiles = await client.vectorStores.fileBatches.listFiles(done.id, {
      vector_store_id: store.id,
    });
    expect(batchFiles.data.map((f) => f.id).sort()).toEqual([a.id, b.id].sort());

    emulator.setProcessing({ hold: true });
    const pending = await client.vectorStores.fileBatches.create(store.id, { files: [{ file_id: a.id }] });
    expect(
      (await client.vectorStores.fileBatches.retrieve(pending.id, { vector_store_id: store.id })).status,
    ).toBe('in_progress');
    const cancelled = await client.vectorStores.fileBatches.cancel(pending.id, { vector_store_id: store.id });
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      file_counts: { cancelled: 1, in_progress: 0, total: 1 },
    });
    expect(await client.vectorStores.retrieve(store.id)).toMatchObject({
      status: 'completed',
      file_counts: { completed: 1, cancelled: 1, total: 2 },
    });
  });

  it('surfaces errors as the SDK error classes with param, code and request id', async () => {
    const { client } = await listenEmulator();
    const notFound = await client.vectorStores.retrieve('vs_missing').catch((error: unknown) => error);
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError);
    expect(notFound).toMatchObject({
      status: 404,
      message: "404 No vector store found with id 'vs_missing'.",
    });
    expect((notFound as APIError).requestID).toMatch(/^req_/);

    const badRequest = await client.vectorStores.list({ limit: 101 }).catch((error: unknown) => error);
    expect(badRequest).toBeInstanceOf(OpenAI.BadRequestError);
    expect(badRequest).toMatchObject({ param: 'limit', code: 'integer_above_max_value' });

    const wrongPrefix = await client.vectorStores.fileBatches
      .retrieve('vs_abc', { vector_store_id: 'vs_abc' })
      .catch((error: unknown) => error);
    expect(wrongPrefix).toBeInstanceOf(OpenAI.BadRequestError);
    expect(wrongPrefix).toMatchObject({ param: 'batch_id', code: 'invalid_value' });

    const { baseURL } = await listenEmulator({ apiKeys: ['sk-right-key-0000'] });
    const stranger = new OpenAI({ apiKey: 'sk-wrong-key-9999', baseURL, maxRetries: 0 });
    const unauthorized = await stranger.vectorStores.list().catch((error: unknown) => error);
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(unauthorized).toMatchObject({ status: 401, code: 'invalid_api_key' });
  });
});
