import { afterEach, describe, expect, it } from 'vitest';
import type { FaultRule } from '../../src/emulator/index.ts';
import { seedStore, startGateway, type TestGateway } from '../support/gateway.ts';
import { uploadWithFormData } from '../support/multipart.ts';
import { type GraphQLBody, malformation, send, watchProcess } from './support.ts';

/**
 * An upstream that stops answering: headers never come, or the body stops half-way. Every
 * operation must end by its deadline with an error that says so, never hang on OpenAI.
 */
const CALL_TIMEOUT_MS = 500;
/**
 * Scheduling and the emulator's own work on a busy 2-core machine running the suite in three
 * workers. The stalls themselves never end, so any bound shows the deadline ended the call.
 */
const MARGIN_MS = 1_000;

const STORE_ROUTE = 'GET /v1/vector_stores/{vector_store_id}';

let gateway: TestGateway;
let watch: ReturnType<typeof watchProcess>;
afterEach(async () => {
  watch.stop();
  expect(watch.problems).toEqual([]);
  await gateway.close();
});

async function timed(query: string, variables: Record<string, unknown> = {}) {
  const started = performance.now();
  const response = await send(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const elapsedMs = performance.now() - started;
  expect(malformation(response)).toBeNull();
  expect(response.status).toBe(200);
  return { body: response.json as GraphQLBody, elapsedMs };
}

async function start(
  policy: { readRetries: number; maxRetryAfterSeconds?: number },
  routes: Record<string, FaultRule>,
) {
  watch = watchProcess();
  gateway = await startGateway({ app: { policy: { callTimeoutMs: CALL_TIMEOUT_MS, ...policy } } });
  const seeded = await seedStore(gateway.openai, { name: 'stalled', files: 2 });
  gateway.emulator.setFaults({ routes });
  gateway.resetUpstreamCalls();
  return seeded;
}

describe('upstream stalls end at the per-call deadline', () => {
  for (const stall of ['headers', 'body'] as const) {
    for (const readRetries of [0, 2]) {
      it(`a read whose ${stall === 'headers' ? 'headers never come' : 'body stops midway'} (${readRetries} retries) fails with UPSTREAM_TIMEOUT at the deadline, and its sibling keeps its data`, async () => {
        const { storeId } = await start({ readRetries }, { [STORE_ROUTE]: { stall } });

        const { body, elapsedMs } = await timed(
          'query ($id: ID!) { vectorStore(id: $id) { name } files(first: 5) { nodes { filename } } }',
          { id: storeId },
        );

        console.log(
          `upstream stalls: stall ${stall}, ${readRetries} retries: answered in ${elapsedMs.toFixed(0)} ms (deadline ${CALL_TIMEOUT_MS} ms), ` +
            `${gateway.emulator.stats().byRoute[STORE_ROUTE]} attempt(s)`,
        );
        expect(body.errors).toEqual([
          expect.objectContaining({
            path: ['vectorStore'],
            message: 'OpenAI did not answer in time.',
            extensions: expect.objectContaining({ code: 'UPSTREAM_TIMEOUT' }),
          }),
        ]);
        expect(body.data?.vectorStore).toBeNull();
        expect((body.data?.files as { nodes: unknown[] } | undefined)?.nodes).toHaveLength(2);
        expect(elapsedMs).toBeGreaterThanOrEqual(CALL_TIMEOUT_MS - 10);
        expect(elapsedMs).toBeLessThan(CALL_TIMEOUT_MS + MARGIN_MS);
        // The deadline covers the retries: once it has passed, none is sent.
        expect(gateway.emulator.stats().byRoute[STORE_ROUTE]).toBe(1);
      });
    }
  }

  it('a write that stalls is answered as an UpstreamError at the deadline, and is not sent again', async () => {
    await start({ readRetries: 2 }, { 'POST /v1/vector_stores': { stall: 'headers' } });

    const { body, elapsedMs } = await timed(
      `mutation { createVectorStore(input: { name: "never answered" }) {
        __typename ... on UpstreamError { code message } } }`,
    );

    console.log(`upstream stalls: stalled write answered in ${elapsedMs.toFixed(0)} ms`);
    expect(body.data?.createVectorStore).toEqual({
      __typename: 'UpstreamError',
      code: 'UPSTREAM_TIMEOUT',
      message: 'OpenAI did not answer in time.',
    });
    expect(elapsedMs).toBeLessThan(CALL_TIMEOUT_MS + MARGIN_MS);
    expect(gateway.emulator.stats().byRoute['POST /v1/vector_stores']).toBe(1);
  });

  it('an upload whose upstream never answers fails that file with UPSTREAM_TIMEOUT, and stores nothing', async () => {
    const { storeId } = await start({ readRetries: 0 }, { 'POST /v1/files': { stall: 'headers' } });

    const started = performance.now();
    const result = await uploadWithFormData(gateway, { vectorStoreId: storeId }, [
      { name: 'stalled.txt', content: 'these bytes are never answered' },
    ]);
    const elapsedMs = performance.now() - started;

    console.log(`upstream stalls: stalled upload answered in ${elapsedMs.toFixed(0)} ms`);
    expect(result.data?.uploadFiles.failures).toEqual([
      expect.objectContaining({ filename: 'stalled.txt', stage: 'UPLOAD', code: 'UPSTREAM_TIMEOUT' }),
    ]);
    // Uploads bypass the SDK: undici's headers timeout stops them, and it runs on undici's coarse
    // timers, which fire up to a second late.
    expect(elapsedMs).toBeLessThan(CALL_TIMEOUT_MS + 1_000 + MARGIN_MS);
    expect(gateway.emulator.inspect().files).toBe(2);
  });

  it('a read whose Retry-After is past its deadline is RATE_LIMITED at once, with when to retry', async () => {
    // Waiting would only end at the deadline with nothing to show: the caller is told when instead.
    const { storeId } = await start(
      { readRetries: 2, maxRetryAfterSeconds: 5 },
      { [STORE_ROUTE]: { rateLimitRate: 1, retryAfterSeconds: 2 } },
    );

    const { body, elapsedMs } = await timed('query ($id: ID!) { vectorStore(id: $id) { name } }', {
      id: storeId,
    });

    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 2 });
    expect(elapsedMs).toBeLessThan(CALL_TIMEOUT_MS);
    expect(gateway.emulator.stats().byRoute[STORE_ROUTE]).toBe(1);
  });

  it('a read sleeping between retries ends at its deadline, and sends nothing after it', async () => {
    // The SDK sleeps a Retry-After the deadline allows, without watching the deadline; two of
    // them outlast it. The gateway ends the call at the deadline, and the SDK's next attempt,
    // due after it, never goes out.
    watch = watchProcess();
    gateway = await startGateway({
      app: { policy: { callTimeoutMs: 1_500, readRetries: 2, maxRetryAfterSeconds: 5 } },
    });
    const { storeId } = await seedStore(gateway.openai, { name: 'throttled' });
    gateway.emulator.setFaults({ routes: { [STORE_ROUTE]: { rateLimitRate: 1, retryAfterSeconds: 1 } } });
    gateway.resetUpstreamCalls();

    const { body, elapsedMs } = await timed('query ($id: ID!) { vectorStore(id: $id) { name } }', {
      id: storeId,
    });

    console.log(
      `upstream stalls: two 1 s Retry-After waits against a 1,500 ms deadline: ${elapsedMs.toFixed(0)} ms`,
    );
    expect(body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_TIMEOUT');
    expect(elapsedMs).toBeLessThan(1_500 + MARGIN_MS);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(gateway.emulator.stats().byRoute[STORE_ROUTE]).toBe(2);
  });
});

describe('the operation deadline', () => {
  it('ends an operation whose calls each beat the per-call deadline but not, together, the operation deadline', async () => {
    // 350 ms a call, 150 ms within its 500; the files arrive at 700 ms, 200 ms before the
    // operation's 900, and their details would at 1050: a margin each way a busy machine keeps.
    const OPERATION_TIMEOUT_MS = 900;
    watch = watchProcess();
    gateway = await startGateway({
      app: {
        deadlines: { operationMs: OPERATION_TIMEOUT_MS },
        policy: { callTimeoutMs: CALL_TIMEOUT_MS, readRetries: 0 },
      },
    });
    const { storeId } = await seedStore(gateway.openai, { name: 'slow', files: 2 });
    // The store, its files, then their details come one after another: 1050 ms in all.
    gateway.emulator.setFaults({ latencyMs: 350 });

    const { body, elapsedMs } = await timed(
      'query ($id: ID!) { vectorStore(id: $id) { name files(first: 5) { nodes { status file { filename } } } } }',
      { id: storeId },
    );

    console.log(
      `upstream stalls: 3 sequential calls of 350 ms under a ${OPERATION_TIMEOUT_MS} ms operation deadline: answered in ${elapsedMs.toFixed(0)} ms`,
    );
    expect(elapsedMs).toBeGreaterThanOrEqual(OPERATION_TIMEOUT_MS - 10);
    expect(elapsedMs).toBeLessThan(OPERATION_TIMEOUT_MS + MARGIN_MS);
    // What arrived in time is kept; what did not says why.
    const store = body.data?.vectorStore as {
      name: string;
      files: { nodes: Array<{ status: string; file: unknown }> };
    };
    expect(store.name).toBe('slow');
    expect(store.files.nodes.map((node) => [node.status, node.file])).toEqual([
      ['COMPLETED', null],
      ['COMPLETED', null],
    ]);
    expect(body.errors?.map((error) => [error.path, error.extensions?.code, error.message])).toEqual([
      [
        ['vectorStore', 'files', 'nodes', 0, 'file'],
        'REQUEST_CANCELLED',
        "The operation's deadline passed before OpenAI answered.",
      ],
      [
        ['vectorStore', 'files', 'nodes', 1, 'file'],
        'REQUEST_CANCELLED',
        "The operation's deadline passed before OpenAI answered.",
      ],
    ]);
  });
});
