import { setTimeout as sleep } from 'node:timers/promises';
import type { FormattedExecutionResult as ExecutionResult } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AppOptions } from '../../src/app.ts';
import { encodeGlobalId } from '../../src/schema/ids.ts';
import { metricLine } from '../observability/support.ts';
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
    // A non-lazy client prints the close it did not ask for; `closed` records it instead.
    onNonLazyError: () => {},
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
  const next = async (): Promise<ExecutionResult<T, unknown> | null> => {
    const step = await iterator.next();
    return step.done ? null : step.value;
  };
  return {
    next,
    async rest(): Promise<Array<ExecutionResult<T, unknown>>> {
      const results: Array<ExecutionResult<T, unknown>> = [];
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

  describe('access, decided when the connection opens', () => {
    const tokens = [
      { name: 'alice', secret: TOKEN, credentials: ['default'] },
      { name: 'bob', secret: OTHER_TOKEN, credentials: ['default'] },
    ];
    const STORES = '{ vectorStores(first: 1) { nodes { id } } }';

    it('closes a connection without a valid token with 4401 and says why, with 0 upstream calls', async () => {
      await start({ tokens });
      for (const connectionParams of [undefined, { authorization: 'Bearer wrong-token-0123456789' }]) {
        const { client: ws, closed } = client({ connectionParams });
        await expect(subscription(ws, STORES).rest()).rejects.toMatchObject({ code: 4401 });
        const { code, reason } = await closed;
        expect(code).toBe(4401);
        expect(reason).toMatch(/^UNAUTHENTICATED: A valid gateway token is required/);
      }
      expect(gateway.upstreamCalls()).toBe(0);
    });

    it('takes the token and credential from connectionParams in any case, or from the upgrade headers', async () => {
      await start({ tokens });
      const byParams = client({
        connectionParams: { Authorization: `Bearer ${TOKEN}`, 'X-OpenAI-Credential': 'default' },
      });
      const byHeaders = client({ headers: { authorization: `Bearer ${OTHER_TOKEN}` } });
      for (const { client: ws } of [byParams, byHeaders]) {
        const [result] = await subscription<{ vectorStores: { nodes: unknown[] } }>(ws, STORES).rest();
        expect(result).toEqual({ data: { vectorStores: { nodes: [] } }, extensions: expect.anything() });
      }
      // A parameter wins over the header of the same name.
      const mixed = client({
        connectionParams: { authorization: 'Bearer wrong-token-0123456789' },
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      await expect(subscription(mixed.client, STORES).rest()).rejects.toMatchObject({ code: 4401 });
    });

    it('closes with 4403 for a credential the token may not use, or a caller key the gateway refuses', async () => {
      await start({ tokens });
      const unknown = client({
        connectionParams: { authorization: `Bearer ${TOKEN}`, 'x-openai-credential': 'elsewhere' },
      });
      await expect(subscription(unknown.client, STORES).rest()).rejects.toMatchObject({ code: 4403 });
      expect((await unknown.closed).reason).toMatch(/^CREDENTIAL_NOT_ALLOWED: /);
      expect((await unknown.closed).reason).not.toContain('elsewhere');

      const ownKey = client({
        connectionParams: { authorization: `Bearer ${TOKEN}`, 'x-openai-api-key': 'sk-caller-0123456789' },
      });
      await expect(subscription(ownKey.client, STORES).rest()).rejects.toMatchObject({ code: 4403 });
      expect((await ownKey.closed).reason).toMatch(/^CALLER_KEYS_DISABLED: /);
      expect(gateway.upstreamCalls()).toBe(0);
    });

    it("uses a caller's own key from connectionParams when allowed, and never logs it", async () => {
      await start({ allowCallerKeys: true });
      const { client: ws } = client({ connectionParams: { 'x-openai-api-key': TEST_API_KEY } });
      const [result] = await subscription<{ vectorStores: { nodes: unknown[] } }>(ws, STORES).rest();
      expect(result!.data).toEqual({ vectorStores: { nodes: [] } });
      expect(gateway.upstreamCalls()).toBe(1);
      const line = logged(gateway).find((entry) => entry.msg === 'operation completed');
      expect(line).toMatchObject({ credential: 'caller-key', outcome: 'ok', upstreamCalls: 1 });
      // close() fails the test if the key, or the tail OpenAI's 401 text echoes, was logged.
    });
  });

  describe('origin and host, checked before the upgrade completes', () => {
    it('refuses an unlisted origin with 403, and upgrades without one, from the same origin, or from a listed one', async () => {
      await start({ cors: { origins: ['https://app.example.com'] } });
      const host = new URL(gateway.url).host;
      const foreign = await upgradeStatus(gateway.wsUrl, { origin: 'https://evil.example' });
      expect(foreign.status).toBe(403);
      expect(JSON.parse(foreign.body).errors[0].extensions).toEqual({ code: 'ORIGIN_NOT_ALLOWED' });
      expect((await upgradeStatus(gateway.wsUrl, { origin: 'null' })).status).toBe(403);
      expect((await upgradeStatus(gateway.wsUrl, {})).status).toBe(101);
      expect((await upgradeStatus(gateway.wsUrl, { origin: `http://${host}` })).status).toBe(101);
      expect((await upgradeStatus(gateway.wsUrl, { origin: 'https://app.example.com' })).status).toBe(101);
    });

    it('refuses a foreign Host on a tokenless gateway (DNS rebinding), not on one with tokens', async () => {
      await start({ allowedHosts: ['gateway.internal'] });
      const rebound = await upgradeStatus(gateway.wsUrl, { host: 'attacker.example' });
      expect(rebound.status).toBe(403);
      expect(JSON.parse(rebound.body).errors[0].extensions).toEqual({ code: 'HOST_NOT_ALLOWED' });
      expect((await upgradeStatus(gateway.wsUrl, { host: 'gateway.internal' })).status).toBe(101);
      expect((await upgradeStatus(gateway.wsUrl, { host: 'localhost' })).status).toBe(101);
      await gateway.close();

      await start({ tokens: [{ name: 'alice', secret: TOKEN, credentials: ['default'] }] });
      expect((await upgradeStatus(gateway.wsUrl, { host: 'attacker.example' })).status).toBe(101);
    });

    it('upgrades on /graphql only', async () => {
      await start();
      const elsewhere = await upgradeStatus(gateway.wsUrl.replace('/graphql', '/metrics'), {});
      expect(elsewhere.status).toBe(404);
    });
  });

  describe('limits', () => {
    it('refuses a too-deep subscription and an over-cost one over WebSocket too, with 0 upstream calls', async () => {
      await start({ limits: { maxDepth: 2 } });
      const batch = await createBatch(1);
      gateway.resetUpstreamCalls();
      const deep = await refusal(subscription(client().client, BATCH_SUBSCRIPTION, { id: batch.id }).rest());
      expect(deep[0]!.extensions).toMatchObject({ code: 'QUERY_TOO_DEEP', limit: 2 });
      expect(gateway.upstreamCalls()).toBe(0);
      await gateway.close();

      // Each event reads its batch's first 100 files: 1 call per event, past a limit of 0.
      await start({ limits: { maxUpstreamCalls: 0 } });
      const priced = await createBatch(1);
      gateway.resetUpstreamCalls();
      const [expensive] = await subscription(
        client().client,
        'subscription ($id: ID!) { fileBatch(id: $id) { files(first: 100) { nodes { id } } } }',
        { id: priced.id },
      ).rest();
      expect(expensive!.errors![0]!.extensions).toMatchObject({ code: 'QUERY_TOO_EXPENSIVE', limit: 0 });
      expect(gateway.upstreamCalls()).toBe(0);
      expect(gateway.app.live.size).toBe(0);
    });

    it('closes a connection whose message passes 64 KiB with 1009', async () => {
      await start();
      const { client: ws, closed } = client();
      const padding = `# ${'x'.repeat(64 * 1024)}\n`;
      await expect(subscription(ws, `${padding}{ __typename }`).rest()).rejects.toMatchObject({ code: 1009 });
      expect((await closed).code).toBe(1009);
      // A message within the limit is served.
      const [small] = await subscription(
        client().client,
        `# ${'x'.repeat(60 * 1024)}\n{ __typename }`,
      ).rest();
      expect(small).toMatchObject({ data: { __typename: 'Query' } });
    });

    it('closes a connection that never initialises (4408), and terminates a peer that stops answering pings', async () => {
      await start({}, { websocket: { connectionInitWaitMs: 300, keepAliveMs: 200 } });
      const silent = new WebSocket(gateway.wsUrl, 'graphql-transport-ws');
      const silentClosed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
      expect(await silentClosed).toBe(4408);

      /** An initialised connection; `autoPong: false` makes a peer that is gone without saying so. */
      async function initialised(autoPong: boolean) {
        const socket = new WebSocket(gateway.wsUrl, 'graphql-transport-ws', { autoPong });
        await new Promise((resolve) => socket.on('open', resolve));
        socket.send(JSON.stringify({ type: 'connection_init' }));
        await new Promise((resolve) => socket.once('message', resolve));
        let code: number | undefined;
        socket.on('close', (closeCode) => {
          code = closeCode;
        });
        return { socket, code: () => code };
      }
      const alive = await initialised(true);
      const dead = await initialised(false);
      await sleep(1000);
      expect(dead.code()).toBe(1006);
      expect(alive.code()).toBeUndefined();
      expect(gateway.websocket!.connections).toBe(1);
      alive.socket.close();
    });

    it('counts WebSocket watches against the same per-credential cap as SSE', async () => {
      await start({ live: { watchesPerCredential: 2 } });
      gateway.emulator.setProcessing({ hold: true });
      const batch = await createBatch(1);
      const overSse = sseSubscribe<BatchData>(gateway.url, BATCH_SUBSCRIPTION, { id: batch.id });
      await overSse.next();
      const overWs = subscription<BatchData>(client().client, BATCH_SUBSCRIPTION, { id: batch.id });
      expect((await overWs.next())!.data!.fileBatch.status).toBe('IN_PROGRESS');

      const third = await subscription<BatchData>(client().client, BATCH_SUBSCRIPTION, {
        id: batch.id,
      }).rest();
      expect(third).toHaveLength(1);
      expect(third[0]!.errors![0]!.extensions).toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS', limit: 2 });
      overSse.close();
      await overWs.stop();
    });

    it('counts watches per token over WebSocket, so one caller cannot take the credential', async () => {
      await start({
        tokens: [
          { name: 'alice', secret: TOKEN, credentials: ['default'] },
          { name: 'bob', secret: OTHER_TOKEN, credentials: ['default'] },
        ],
        live: { watchesPerToken: 1 },
      });
      gateway.emulator.setProcessing({ hold: true });
      const batch = await createBatch(1);
      const alice = client({ connectionParams: { authorization: `Bearer ${TOKEN}` } }).client;
      const bob = client({ connectionParams: { authorization: `Bearer ${OTHER_TOKEN}` } }).client;
      const first = subscription<BatchData>(alice, BATCH_SUBSCRIPTION, { id: batch.id });
      expect((await first.next())!.errors).toBeUndefined();
      const second = await subscription<BatchData>(alice, BATCH_SUBSCRIPTION, { id: batch.id }).rest();
      expect(second[0]!.errors![0]!.extensions).toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS', limit: 1 });
      const other = subscription<BatchData>(bob, BATCH_SUBSCRIPTION, { id: batch.id });
      expect((await other.next())!.errors).toBeUndefined();
      await first.stop();
      await other.stop();
    });
  });

  describe('lifecycle', () => {
    it('stops the poller when the client completes its subscription, and logs it as cancelled', async () => {
      await start();
      gateway.emulator.setProcessing({ hold: true });
      const batch = await createBatch(1);
      const stream = subscription<BatchData>(client({ lazy: false }).client, BATCH_SUBSCRIPTION, {
        id: batch.id,
      });
      await stream.next();
      expect(gateway.app.live.size).toBe(1);
      await stream.stop();
      const until = Date.now() + 2000;
      while (gateway.app.live.size > 0 && Date.now() < until) await sleep(20);
      expect(gateway.app.live.size).toBe(0);
      await sleep(50);
      expect(logged(gateway).find((entry) => entry.msg === 'operation completed')).toMatchObject({
        operationName: 'Batch',
        outcome: 'cancelled',
      });
    });

    it('ends subscriptions with SHUTTING_DOWN when draining, then closes with 1001, and refuses new upgrades', async () => {
      await start();
      gateway.emulator.setProcessing({ hold: true });
      const batch = await createBatch(1);
      const { client: ws, closed } = client({ lazy: false });
      const stream = subscription<BatchData>(ws, BATCH_SUBSCRIPTION, { id: batch.id });
      expect((await stream.next())!.data!.fileBatch.status).toBe('IN_PROGRESS');

      gateway.app.beginDraining();
      const rest = await stream.rest();
      expect(rest).toHaveLength(1);
      expect(rest[0]!.errors![0]!.extensions).toEqual({ code: 'SHUTTING_DOWN' });
      expect(await closed).toEqual({
        code: 1001,
        reason: 'The gateway is shutting down; reconnect to keep watching.',
      });
      expect((await upgradeStatus(gateway.wsUrl, {})).status).toBe(503);
      expect(gateway.app.live.size).toBe(0);
    });
  });

  describe('observability', () => {
    it('logs one line per operation: name, outcome, duration, credential, upstream calls', async () => {
      await start();
      gateway.emulator.setProcessing({ delayMs: 300 });
      const batch = await createBatch(1);
      await subscription<BatchData>(client().client, BATCH_SUBSCRIPTION, { id: batch.id }).rest();
      await subscription(client().client, 'query Stores { vectorStores(first: 2) { nodes { id } } }').rest();
      await sleep(50);
      const lines = logged(gateway).filter((entry) => entry.msg === 'operation completed');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatchObject({
        level: 'info',
        transport: 'websocket',
        connectionId: expect.any(String),
        requestId: expect.any(String),
        operationName: 'Batch',
        operationType: 'subscription',
        outcome: 'ok',
        durationMs: expect.any(Number),
        credential: 'default',
        // The poller's reads are its own, not the subscription's.
        upstreamCalls: 0,
      });
      expect(lines[0]!.durationMs).toBeGreaterThanOrEqual(250);
      expect(lines[1]).toMatchObject({
        operationName: 'Stores',
        operationType: 'query',
        outcome: 'ok',
        upstreamCalls: 1,
      });
      expect(lines[0]!.requestId).not.toBe(lines[1]!.requestId);
    });

    it('logs a refused operation at warn with its code', async () => {
      await start({ limits: { maxDepth: 2 } });
      const batch = await createBatch(1);
      await refusal(subscription(client().client, BATCH_SUBSCRIPTION, { id: batch.id }).rest());
      expect(logged(gateway).find((entry) => entry.msg === 'operation completed')).toMatchObject({
        level: 'warn',
        outcome: 'refused',
        errors: ['QUERY_TOO_DEEP'],
      });
    });

    it('counts WebSocket operations in the GraphQL metrics, and open connections', async () => {
      await start();
      gateway.emulator.setProcessing({ delayMs: 300 });
      const batch = await createBatch(1);
      const metrics = async () => (await fetch(gateway.url.replace('/graphql', '/metrics'))).text();
      const { client: ws } = client({ lazy: false });
      const stream = subscription<BatchData>(ws, BATCH_SUBSCRIPTION, { id: batch.id });
      await stream.next();
      expect(await metrics()).toMatch(/^gateway_websocket_connections 1$/m);
      await stream.rest();
      // Counted as the operation ends, as over SSE.
      const labels = { operationName: 'Batch', operationType: 'subscription' };
      expect(metricLine(await metrics(), 'graphql_envelop_request', labels)).toBe(1);
      await ws.dispose();
      const until = Date.now() + 2000;
      while (gateway.websocket!.connections > 0 && Date.now() < until) await sleep(20);
      expect(await metrics()).toMatch(/^gateway_websocket_connections 0$/m);
    });
  });
});
