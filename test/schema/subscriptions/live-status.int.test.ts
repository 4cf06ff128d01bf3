import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'graphql-sse';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeGlobalId } from '../../../src/schema/ids.ts';
import type { GraphQLResponse } from '../../support/gateway.ts';
import { startGateway, type TestGateway, uploadTextFiles } from '../../support/gateway.ts';
import { subscribe } from '../../support/sse.ts';

const BATCH_ROUTE = 'GET /v1/vector_stores/{vector_store_id}/file_batches/{batch_id}';
const FILE_ROUTE = 'GET /v1/vector_stores/{vector_store_id}/files/{file_id}';
const STORE_ROUTE = 'GET /v1/vector_stores/{vector_store_id}';

interface Counts {
  inProgress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}
type BatchData = { fileBatch: { id: string; status: string; fileCounts: Counts } };
type BatchEvent = GraphQLResponse<BatchData>;

const BATCH_SUBSCRIPTION = /* GraphQL */ `
  subscription Batch($id: ID!, $deadline: Int) {
    fileBatch(id: $id, deadlineSeconds: $deadline) {
      id
      status
      fileCounts { inProgress completed failed cancelled total }
    }
  }`;

describe('live processing status over SSE', () => {
  let gateway: TestGateway;
  beforeEach(async () => {
    // Processing finishes by the emulator's clock: a real one, so it happens while the test waits.
    gateway = await startGateway({ emulator: { clock: { now: () => Date.now() } } });
  });
  afterEach(() => gateway.close());

  async function createBatch(files: number): Promise<{ storeId: string; batchId: string; id: string }> {
    const store = await gateway.openai.vectorStores.create({ name: 'live' });
    const fileIds = await uploadTextFiles(gateway.openai, files);
    const batch = await gateway.openai.vectorStores.fileBatches.create(store.id, { file_ids: fileIds });
    return {
      storeId: store.id,
      batchId: batch.id,
      id: encodeGlobalId('FileBatch', `${store.id}:${batch.id}`),
    };
  }

  function routeCalls(route: string): number {
    return gateway.emulator.stats().byRoute[route] ?? 0;
  }

  /** Waits until no poller runs, then checks that the upstream hears nothing more for a while. */
  async function expectPollingStopped(): Promise<void> {
    const until = Date.now() + 2000;
    while (gateway.app.live.size > 0 && Date.now() < until) await sleep(20);
    expect(gateway.app.live.size).toBe(0);
    const calls = gateway.emulator.stats().total;
    await sleep(1200);
    expect(gateway.emulator.stats().total).toBe(calls);
  }

  it('pushes a batch of 5 files from in progress to completed, then ends the stream', async () => {
    gateway.emulator.setProcessing({ delayMs: 1000 });
    const batch = await createBatch(5);

    const stream = subscribe<BatchData>(gateway.url, BATCH_SUBSCRIPTION, { id: batch.id });
    const { results, completed } = await stream.rest();

    expect(completed).toBe(true);
    expect(results.every((result) => result.errors === undefined)).toBe(true);
    const states = results.map((result) => result.data!.fileBatch!);
    expect(states.length).toBeGreaterThanOrEqual(2);
    expect(states.every((state) => state.id === batch.id)).toBe(true);
    expect(states.slice(0, -1).every((state) => state.status === 'IN_PROGRESS')).toBe(true);
    expect(states[0]!.fileCounts.inProgress).toBeGreaterThan(0);
    expect(states.at(-1)).toMatchObject({
      status: 'COMPLETED',
      fileCounts: { inProgress: 0, completed: 5, failed: 0, cancelled: 0, total: 5 },
    });
    // Only changes are pushed.
    for (let index = 1; index < states.length; index++) expect(states[index]).not.toEqual(states[index - 1]);
    expect(gateway.app.live.size).toBe(0);
  });

  it('ends a file that never finishes at its deadline with STILL_IN_PROGRESS, and stops polling', async () => {
    gateway.emulator.setProcessing({ hold: true });
    const store = await gateway.openai.vectorStores.create({ name: 'held' });
    const [fileId] = await uploadTextFiles(gateway.openai, 1);
    await gateway.openai.vectorStores.files.create(store.id, { file_id: fileId! });
    const started = Date.now();

    const stream = subscribe<{ vectorStoreFile: { status: string } | null }>(
      gateway.url,
      `subscription ($id: ID!) { vectorStoreFile(id: $id, deadlineSeconds: 1) { status } }`,
      { id: encodeGlobalId('VectorStoreFile', `${store.id}:${fileId}`) },
    );
    const { results, completed } = await stream.rest();

    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(completed).toBe(true);
    expect(results[0]).toEqual({ data: { vectorStoreFile: { status: 'IN_PROGRESS' } } });
    const last = results.at(-1)!;
    expect(last.data).toBeNull();
    expect(last.errors).toHaveLength(1);
    expect(last.errors![0]!.extensions).toMatchObject({ code: 'STILL_IN_PROGRESS', waitedSeconds: 1 });
    expect(last.errors![0]!.message).toMatch(
      new RegExp(`file ${fileId} of vector store ${store.id} is still in progress`),
    );
    expect(routeCalls(FILE_ROUTE)).toBeGreaterThanOrEqual(2);
    await expectPollingStopped();
  });

  it('serves 50 subscribers of one batch with the upstream calls of one poller', async () => {
    gateway.emulator.setProcessing({ hold: true });

    /**
     * Subscribes `count` clients and waits until each has its first event, so all are attached;
     * then releases processing and reads every stream to its end. Counted: the calls from the
     * release on, which do not depend on how long the clients took to connect.
     */
    async function watchHeldBatch(
      count: number,
    ): Promise<{ calls: number; pollers: number; results: BatchEvent[][] }> {
      const batch = await createBatch(3);
      const streams = Array.from({ length: count }, () =>
        subscribe<BatchData>(gateway.url, BATCH_SUBSCRIPTION, { id: batch.id }),
      );
      const firsts = await Promise.all(streams.map((stream) => stream.next()));
      const pollers = gateway.app.live.size;
      gateway.resetUpstreamCalls();
      gateway.emulator.setProcessing({ hold: false });
      const results = await Promise.all(
        streams.map(async (stream, index) => {
          const { results, completed } = await stream.rest();
          expect(completed).toBe(true);
          return [firsts[index]!, ...results];
        }),
      );
      gateway.emulator.setProcessing({ hold: true });
      return { calls: routeCalls(BATCH_ROUTE), pollers, results };
    }

    const one = await watchHeldBatch(1);
    const fifty = await watchHeldBatch(50);

    expect([one.pollers, fifty.pollers]).toEqual([1, 1]);
    expect(one.calls).toBeGreaterThanOrEqual(1);
    // A poll in flight at the release may add one; fifty pollers would make at least fifty.
    expect(fifty.calls).toBeLessThanOrEqual(one.calls + 1);
    expect(gateway.emulator.stats().total).toBe(fifty.calls);
    for (const results of fifty.results) {
      expect(results[0]!.data!.fileBatch!.status).toBe('IN_PROGRESS');
      expect(results.at(-1)!.data!.fileBatch).toMatchObject({
        status: 'COMPLETED',
        fileCounts: { inProgress: 0, completed: 3, total: 3 },
      });
    }
    expect(gateway.app.live.size).toBe(0);
  });

  it('stops the poller when its last subscriber disconnects, and not before', async () => {
    gateway.emulator.setProcessing({ hold: true });
    const batch = await createBatch(2);
    const query = `subscription ($id: ID!) { vectorStore(id: $id) { status fileCounts { inProgress } } }`;
    const first = subscribe(gateway.url, query, { id: batch.storeId });
    const second = subscribe(gateway.url, query, { id: encodeGlobalId('VectorStore', batch.storeId) });
    expect(await first.next()).toEqual({
      data: { vectorStore: { status: 'IN_PROGRESS', fileCounts: { inProgress: 2 } } },
    });
    expect(await second.next()).toEqual({
      data: { vectorStore: { status: 'IN_PROGRESS', fileCounts: { inProgress: 2 } } },
    });
    expect(gateway.app.live.size).toBe(1);

    first.close();
    const before = routeCalls(STORE_ROUTE);
    await sleep(700);
    expect(gateway.app.live.size).toBe(1);
    expect(routeCalls(STORE_ROUTE)).toBeGreaterThan(before);

    second.close();
    await expectPollingStopped();
  });

  it('gives a late subscriber the current state at once, from the running poller', async () => {
    gateway.emulator.setProcessing({ hold: true });
    const batch = await createBatch(1);
    const early = subscribe<BatchData>(gateway.url, BATCH_SUBSCRIPTION, { id: batch.id });
    await early.next();
    const calls = routeCalls(BATCH_ROUTE);

    const late = subscribe<BatchData>(gateway.url, BATCH_SUBSCRIPTION, {
      id: batch.batchId,
      deadline: 60,
    });
    // A raw vsfb_ id says nothing of its store.
    expect((await late.rest()).results[0]!.errors![0]!.extensions!.code).toBe('INVALID_ID');

    const started = Date.now();
    const joined = subscribe<BatchData>(
      gateway.url,
      `subscription ($id: ID!, $store: ID) { fileBatch(id: $id, vectorStoreId: $store) { id status } }`,
      { id: batch.batchId, store: batch.storeId },
    );
    expect(await joined.next()).toEqual({ data: { fileBatch: { id: batch.id, status: 'IN_PROGRESS' } } });
    // From the poller's latest state, not after its next poll (which may be seconds away).
    expect(Date.now() - started).toBeLessThan(1000);
    expect(routeCalls(BATCH_ROUTE)).toBeLessThanOrEqual(calls + 1);
    expect(gateway.app.live.size).toBe(1);
    early.close();
    joined.close();
  });

  it('answers NOT_FOUND for an unknown object, and BAD_USER_INPUT for an out-of-range deadline', async () => {
    const missing = await subscribe(
      gateway.url,
      `subscription { vectorStore(id: "vs_missing1") { status } }`,
    ).rest();
    expect(missing.completed).toBe(true);
    expect(missing.results).toHaveLength(1);
    expect(missing.results[0]!.errors![0]).toMatchObject({
      message: 'There is no vector store vs_missing1, or this credential cannot see it.',
      extensions: { code: 'NOT_FOUND' },
    });

    const tooLong = await subscribe(
      gateway.url,
      `subscription { vectorStore(id: "vs_missing1", deadlineSeconds: 3600) { status } }`,
    ).rest();
    expect(tooLong.results[0]!.errors![0]!.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'deadlineSeconds',
    });
    expect(gateway.app.live.size).toBe(0);
  });

  it('reads nested fields afresh for each event, past the operation deadline', async () => {
    await gateway.close();
    gateway = await startGateway({
      emulator: { clock: { now: () => Date.now() } },
      app: { deadlines: { operationMs: 300 } },
    });
    gateway.emulator.setProcessing({ delayMs: 900 });
    const batch = await createBatch(2);
    const stream = subscribe<{
      fileBatch: { status: string; vectorStore: { status: string; fileCounts: { completed: number } } };
    }>(
      gateway.url,
      `subscription ($id: ID!) { fileBatch(id: $id) { status vectorStore { status fileCounts { completed } } } }`,
      { id: batch.id },
    );
    const { results, completed } = await stream.rest();
    expect(completed).toBe(true);
    expect(results[0]).toEqual({
      data: {
        fileBatch: {
          status: 'IN_PROGRESS',
          vectorStore: { status: 'IN_PROGRESS', fileCounts: { completed: 0 } },
        },
      },
    });
    expect(results.at(-1)).toEqual({
      data: {
        fileBatch: {
          status: 'COMPLETED',
          vectorStore: { status: 'COMPLETED', fileCounts: { completed: 2 } },
        },
      },
    });
  });

  it('works with the graphql-sse client in distinct connections mode, which the README Apollo link uses', async () => {
    gateway.emulator.setProcessing({ delayMs: 600 });
    const batch = await createBatch(2);
    const client = createClient({ url: gateway.url, singleConnection: false, retryAttempts: 0 });
    const statuses: string[] = [];
    for await (const result of client.iterate<BatchData>({
      query: BATCH_SUBSCRIPTION,
      variables: { id: batch.id },
    })) {
      expect(result.errors).toBeUndefined();
      statuses.push(result.data!.fileBatch.status);
    }
    client.dispose();
    expect(statuses[0]).toBe('IN_PROGRESS');
    expect(statuses.at(-1)).toBe('COMPLETED');
  });

  it('ends every stream with SHUTTING_DOWN when the gateway starts draining', async () => {
    gateway.emulator.setProcessing({ hold: true });
    const batch = await createBatch(1);
    const stream = subscribe<BatchData>(gateway.url, BATCH_SUBSCRIPTION, { id: batch.id });
    expect((await stream.next())?.data?.fileBatch.status).toBe('IN_PROGRESS');

    gateway.app.beginDraining();
    const { results, completed } = await stream.rest();
    expect(completed).toBe(true);
    expect(results).toHaveLength(1);
    expect(results[0]!.errors![0]!.extensions).toEqual({ code: 'SHUTTING_DOWN' });
    await expectPollingStopped();
  });

  it('streams over GET too, as curl or EventSource would ask', async () => {
    const batch = await createBatch(1);
    const url = new URL(gateway.url);
    url.searchParams.set('query', `subscription ($id: ID!) { vectorStore(id: $id) { status } }`);
    url.searchParams.set('variables', JSON.stringify({ id: batch.storeId }));
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', 'x-graphql-yoga-csrf': '1' },
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const body = await response.text();
    expect(body).toContain('event: next\ndata: {"data":{"vectorStore":{"status":"COMPLETED"}}}');
    expect(body).toMatch(/event: complete\n/);
  });
});
