import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, createClient, type ExecutionResult } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AppOptions } from '../../src/app.ts';
import { encodeGlobalId } from '../../src/schema/ids.ts';
import {
  type GatewayOptions,
  startGateway,
  TEST_API_KEY,
  type TestGateway,
  uploadTextFiles,
} from '../support/gateway.ts';
import { subscribe as sseSubscribe } from '../support/sse.ts';

const BATCH_ROUTE = 'GET /v1/vector_stores/{vector_store_id}/file_batches/{batch_id}';
const TOKEN = 'gw-ws-token-0123456789abcdef';
const OTHER_TOKEN = 'gw-ws-other-0123456789abcdef';

interface Counts {
  inProgress: number;
  completed: number;
  total: number;
}
type BatchData = { fileBatch: { id: string; status: string; fileCounts: Counts } };

const BATCH_SUBSCRIPTION = /* GraphQL */ `
  subscription Batch($id: ID!, $deadline: Int) {
    fileBatch(id: $id, deadlineSeconds: $deadline) {
      id
      status
      fileCounts { inProgress completed total }
    }
  }`;

/** How a connection ended, as the client saw it. */
interface Closed {
  code: number;
  reason: string;
}

interface Connected {
  client: Client;
  /** Resolves with the first close of the client's socket. */
  closed: Promise<Closed>;
}

/** A real graphql-ws client on the `ws` implementation, never retrying, so every close is seen. */
function connect(
  gateway: TestGateway,
  options: {
    connectionParams?: Record<string, unknown>;
    lazy?: boolean;
    headers?: Record<string, string>;
  } = {},
): Connected {
  let onClosed: (closed: Closed) => void = () => {};
  const closed = new Promise<Closed>((resolve) => {
    onClosed = resolve;
  });
  const headers = options.headers;
  const client = createClient({
    url: gateway.wsUrl,
    webSocketImpl: headers
      ? class extends WebSocket {
          constructor(url: string, protocols: string | string[]) {
            super(url, protocols, { headers });
          }
        }
      : WebSocket,
    retryAttempts: 0,
    lazy: options.lazy ?? true,
    connectionParams: options.connectionParams,
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string | Buffer };
        onClosed({ code, reason: String(reason) });
      },
    },
  });
  return { client, closed };
}

/** One subscription: each result in turn, then null when it completes; an error message throws. */
function subscription<T>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const iterator = client.iterate<T>({ query, variables });
  const next = async (): Promise<ExecutionResult<T> | null> => {
    const step = await iterator.next();
    return step.done ? null : step.value;
  };
  return {
    next,
    async rest(): Promise<Array<ExecutionResult<T>>> {
      const results: Array<ExecutionResult<T>> = [];
      for (let result = await next(); result; result = await next()) results.push(result);
      return results;
    },
    stop: () => iterator.return?.(),
  };
}

/** What the error message of a refused operation carried (graphql-ws throws it from the iterator). */
async function refusal(
  promise: Promise<unknown>,
): Promise<Array<{ message: string; extensions?: Record<string, unknown> }>> {
  try {
    await promise;
  } catch (error) {
    return error as Array<{ message: string; extensions?: Record<string, unknown> }>;
  }
  throw new Error('The operation was not refused.');
}

/** An upgrade as a browser page on `origin` would send it; the status the gateway answered. */
function upgradeStatus(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { headers });
    socket.on('open', () => {
      socket.close();
      resolve({ status: 101, body: '' });
    });
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    socket.on('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

function logged(gateway: TestGateway): Array<Record<string, unknown>> {
  return gateway.logLines().map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('GraphQL over WebSocket (graphql-ws) on /graphql', () => {
  let gateway: TestGateway;
  const clients: Client[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.dispose();
    await gateway.close();
  });

  async function start(app: Partial<AppOptions> = {}, options: Omit<GatewayOptions, 'app'> = {}) {
    // Processing finishes by the emulator's clock: a real one, so it happens while the test waits.
    gateway = await startGateway({ emulator: { clock: { now: () => Date.now() } }, app, ...options });
    return gateway;
  }

  function client(options: Parameters<typeof connect>[1] = {}): Connected {
    const connected = connect(gateway, options);
    clients.push(connected.client);
    return connected;
  }

  async function createBatch(files: number): Promise<{ storeId: string; id: string }> {
    const store = await gateway.openai.vectorStores.create({ name: 'ws' });
    const fileIds = await uploadTextFiles(gateway.openai, files);
    const batch = await gateway.openai.vectorStores.fileBatches.create(store.id, { file_ids: fileIds });
    return { storeId: store.id, id: encodeGlobalId('FileBatch', `${store.id}:${batch.id}`) };
  }

  describe('the same schema and pollers as SSE', () => {
    it('pushes a batch of 4 files from in progress to completed, then completes', async () => {
      await start();
      gateway.emulator.setProcessing({ delayMs: 800 });
      const batch = await createBatch(4);

      const results = await subscription<BatchData>(client().client, BATCH_SUBSCRIPTION, {
        id: batch.id,
      }).rest();

      expect(results.every((result) => result.errors === undefined)).toBe(true);
      const states = results.map((result) => result.data!.fileBatch);
      expect(states.length).toBeGreaterThanOrEqual(2);
      expect(states[0]).toMatchObject({ id: batch.id, status: 'IN_PROGRESS' });
      expect(states.at(-1)).toEqual({
        id: batch.id,
        status: 'COMPLETED',
        fileCounts: { inProgress: 0, completed: 4, total: 4 },
      });
      expect(gateway.app.live.size).toBe(0);
    });

    it('serves 50 subscribers, on 50 connections, with the upstream calls of one poller', async () => {
      await start();
      gateway.emulator.setProcessing({ hold: true });

      /** As the SSE test: all attached (first event each), then processing released and counted. */
      async function watchHeldBatch(count: number) {
        const batch = await createBatch(3);
        const streams = Array.from({ length: count }, () =>
          subscription<BatchData>(client().client, BATCH_SUBSCRIPTION, { id: batch.id }),
        );
        const firsts = await Promise.all(streams.map((stream) => stream.next()));
        const pollers = gateway.app.live.size;
        const connections = gateway.websocket!.connections;
        gateway.resetUpstreamCalls();
        gateway.emulator.setProcessing({ hold: false });
        const results = await Promise.all(
          streams.map(async (stream, index) => [firsts[index]!, ...(await stream.rest())]),
        );
        gateway.emulator.setProcessing({ hold: true });
        return {
          calls: gateway.emulator.stats().byRoute[BATCH_ROUTE] ?? 0,
          total: gateway.emulator.stats().total,
          pollers,
          connections,
          results,
        };
      }

      const one = await watchHeldBatch(1);
      const fifty = await watchHeldBatch(50);

      expect([one.pollers, fifty.pollers]).toEqual([1, 1]);
      expect(fifty.connections).toBe(50);
      expect(one.calls).toBeGreaterThanOrEqual(1);
      // A poll in flight at the release may add one; fifty pollers would make at least fifty.
      expect(fifty.calls).toBeLessThanOrEqual(one.calls + 1);
      expect(fifty.total).toBe(fifty.calls);
      for (const results of fifty.results) {
        expect(results[0]!.data!.fileBatch.status).toBe('IN_PROGRESS');
        expect(results.at(-1)!.data!.fileBatch).toMatchObject({
          status: 'COMPLETED',
          fileCounts: { inProgress: 0, completed: 3, total: 3 },
        });
      }
      console.info(`50 WebSocket subscribers: ${fifty.calls} batch reads; 1 subscriber: ${one.calls}`);
      expect(gateway.app.live.size).toBe(0);
    });

    it('answers queries and mutations too, with the cost extension of HTTP', async () => {
      await start();
      const { client: ws } = client();
      const [result] = await subscription<{ createVectorStore: { vectorStore: { name: string } } }>(
        ws,
        'mutation { createVectorStore(input: { name: "over ws" }) { ... on CreateVectorStorePayload { vectorStore { name } } } }',
      ).rest();
      expect(result!.errors).toBeUndefined();
      expect(result!.data!.createVectorStore.vectorStore.name).toBe('over ws');
      const [listed] = await subscription<{ vectorStores: { nodes: Array<{ name: string }> } }>(
        ws,
        '{ vectorStores(first: 5) { nodes { name } } }',
      ).rest();
      expect(listed!.data!.vectorStores.nodes.map((store) => store.name)).toEqual(['over ws']);
      expect(listed!.extensions).toMatchObject({ cost: { upstreamCalls: expect.any(Number) } });
    });
  });
});
