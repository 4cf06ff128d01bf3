import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/emulator/faults.ts';
import { encodeGlobalId } from '../../src/schema/ids.ts';
import { seedStore, startGateway, type TestGateway, uploadTextFiles } from '../support/gateway.ts';
import {
  type GraphQLBody,
  malformation,
  pool,
  type RawResponse,
  send,
  UPSTREAM_CODES,
  watchProcess,
} from './support.ts';

/**
 * The gateway under a steady mix of upstream faults: 10% 5xx, 5% 429 with Retry-After 1 and 2%
 * connection resets, each drawn per upstream request (retries included) from a seeded generator.
 *
 * Each query makes exactly one upstream read, so "reads succeed at least 99%" is measured per
 * query. With 17% of attempts failing and 2 retries, a read fails outright with probability
 * 0.17^3, about 0.5%: over 500 queries that is 2.5 failures on average against the 5 that 99%
 * allows, which a correct gateway would exceed in about 4% of runs (concurrency decides which
 * request meets which fault, so the seed fixes the faults' sequence but not the count). Over
 * 2,500 queries it exceeds the 25 allowed in fewer than 1 run in 1,000.
 */
const QUERIES = 2500;
const CONCURRENCY = 32;
const CREATES = 20;
const ADDS = 15;
const REMOVES = 15;
const FILES_PER_WRITE = 2;

const RESET_RATE = 0.02;
const RATE_LIMIT_SHARE = 0.05;
const ERROR_SHARE = 0.1;

const STORE_ROUTE = 'GET /v1/vector_stores/{vector_store_id}';
const CREATE_ROUTE = 'POST /v1/vector_stores';
const BATCH_ROUTE = 'POST /v1/vector_stores/{vector_store_id}/file_batches';
const DETACH_ROUTE = 'DELETE /v1/vector_stores/{vector_store_id}/files/{file_id}';

const QUERY_KINDS = [
  {
    name: 'store',
    weight: 25,
    query: 'query Store($id: ID!) { vectorStore(id: $id) { id name status fileCounts { total completed } } }',
    ok: (data: Record<string, unknown>) => isObject(data.vectorStore),
  },
  {
    name: 'file',
    weight: 20,
    query: 'query File($file: ID!) { file(id: $file) { id filename bytes } }',
    ok: (data: Record<string, unknown>) => isObject(data.file),
  },
  {
    name: 'stores',
    weight: 15,
    query: 'query Stores { vectorStores(first: 10) { nodes { id name } pageInfo { hasNextPage } } }',
    ok: (data: Record<string, unknown>) => isObject(data.vectorStores),
  },
  {
    name: 'node',
    weight: 15,
    query: 'query Node($node: ID!) { node(id: $node) { id ... on VectorStore { name } } }',
    ok: (data: Record<string, unknown>) => isObject(data.node),
  },
  {
    name: 'files',
    weight: 20,
    query: 'query Files { files(first: 5) { nodes { id filename } } }',
    ok: (data: Record<string, unknown>) => isObject(data.files),
  },
] as const;

const CREATE = `mutation Create($input: CreateVectorStoreInput!) {
  createVectorStore(input: $input) {
    __typename
    ... on CreateVectorStorePayload { vectorStore { openaiId name } }
    ... on MutationError { message }
    ... on UpstreamError { code }
  }
}`;

const ADD = `mutation Add($input: AddFilesInput!) {
  addFiles(input: $input) {
    __typename
    ... on AddFilesPayload { fileBatches { openaiId } failures { index stage code message } }
    ... on MutationError { message }
  }
}`;

const REMOVE = `mutation Remove($input: RemoveFilesInput!) {
  removeFiles(input: $input) {
    __typename
    ... on RemoveFilesPayload { removedIds failures { index stage code message } }
    ... on MutationError { message }
  }
}`;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

type Job =
  | {
      kind: 'query';
      name: string;
      query: string;
      variables: Record<string, unknown>;
      ok: (d: Record<string, unknown>) => boolean;
    }
  | { kind: 'create'; name: string }
  | { kind: 'add'; fileIds: string[] }
  | { kind: 'remove'; fileIds: string[] };

let gateway: TestGateway;
afterEach(() => gateway.close());

describe('a fault mix of 10% 5xx, 5% 429 and 2% connection resets', () => {
  it(`keeps ${QUERIES} queries at least 99% successful, answers every request in well-formed GraphQL, and duplicates no write`, async () => {
    const watch = watchProcess();
    const logicalReads = { ok: 0, failed: 0 };
    const writeOperations = new Set([
      'vectorStores.create',
      'vectorStores.fileBatches.create',
      'vectorStores.files.delete',
    ]);
    gateway = await startGateway({
      app: {
        policy: { readRetries: 2, maxRetryAfterSeconds: 2 },
        // Each logical upstream call, after the SDK's retries: how reads fared, retries included.
        onUpstreamCall: (call) => {
          if (writeOperations.has(call.operation)) return;
          if (call.outcome === 'ok') logicalReads.ok++;
          else logicalReads.failed++;
        },
      },
    });
    try {
      // Seeded before any fault: stores to read, loose files to add, attached files to remove.
      const stores = [];
      for (let index = 0; index < 5; index++) {
        stores.push(await seedStore(gateway.openai, { name: `read-${index}`, files: 3 }));
      }
      const addStore = (await gateway.openai.vectorStores.create({ name: 'adds' })).id;
      const loose = await uploadTextFiles(gateway.openai, ADDS * FILES_PER_WRITE, 'loose');
      const removeStore = await seedStore(gateway.openai, {
        name: 'removals',
        files: REMOVES * FILES_PER_WRITE,
      });

      const random = mulberry32(20261123);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
      const totalWeight = QUERY_KINDS.reduce((sum, kind) => sum + kind.weight, 0);
      const jobs: Job[] = [];
      for (let index = 0; index < QUERIES; index++) {
        let roll = random() * totalWeight;
        let kind: (typeof QUERY_KINDS)[number] = QUERY_KINDS[0];
        for (const candidate of QUERY_KINDS) {
          kind = candidate;
          roll -= candidate.weight;
          if (roll < 0) break;
        }
        const store = pick(stores);
        const file = pick(store.fileIds);
        jobs.push({
          kind: 'query',
          name: kind.name,
          query: kind.query,
          ok: kind.ok,
          variables: { id: store.storeId, file, node: encodeGlobalId('VectorStore', store.storeId) },
        });
      }
      // Writes spread through the queries, each on files no other write touches.
      const writes: Job[] = [
        ...Array.from({ length: CREATES }, (_, index): Job => ({ kind: 'create', name: `created-${index}` })),
        ...Array.from(
          { length: ADDS },
          (_, index): Job => ({
            kind: 'add',
            fileIds: loose.slice(index * FILES_PER_WRITE, (index + 1) * FILES_PER_WRITE),
          }),
        ),
        ...Array.from(
          { length: REMOVES },
          (_, index): Job => ({
            kind: 'remove',
            fileIds: removeStore.fileIds.slice(index * FILES_PER_WRITE, (index + 1) * FILES_PER_WRITE),
          }),
        ),
      ];
      for (const write of writes) jobs.splice(Math.floor(random() * (jobs.length + 1)), 0, write);

      gateway.resetUpstreamCalls();
      // The emulator draws reset, then 429, then 5xx: these rates make the shares 2%, 5% and 10%.
      gateway.emulator.setFaults({
        seed: 42,
        resetRate: RESET_RATE,
        rateLimitRate: RATE_LIMIT_SHARE / (1 - RESET_RATE),
        retryAfterSeconds: 1,
        errorRate: ERROR_SHARE / (1 - RESET_RATE - RATE_LIMIT_SHARE),
        errorStatus: 500,
        routes: {
          [STORE_ROUTE]: { errorStatus: 503 },
          'GET /v1/files': { errorStatus: 502 },
        },
      });

      const started = performance.now();
      const answers = await pool(jobs, CONCURRENCY, async (job) => {
        const body =
          job.kind === 'query'
            ? { query: job.query, variables: job.variables }
            : job.kind === 'create'
              ? { query: CREATE, variables: { input: { name: job.name, metadata: { run: 'fault-mix' } } } }
              : job.kind === 'add'
                ? { query: ADD, variables: { input: { vectorStoreId: addStore, fileIds: job.fileIds } } }
                : {
                    query: REMOVE,
                    variables: { input: { vectorStoreId: removeStore.storeId, fileIds: job.fileIds } },
                  };
        const response = await send(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { job, response };
      });
      const elapsedMs = performance.now() - started;
      gateway.emulator.setFaults(null);
      const { requests, byRoute, total: upstreamAttempts } = gateway.emulator.stats();

      // Every answer: HTTP 200 and well-formed GraphQL JSON; every error a known upstream code.
      const malformed: Array<{ status: number; problem: string | null; text: string }> = [];
      const unknownCodes: string[] = [];
      for (const { response } of answers) {
        const problem = malformation(response);
        if (response.status !== 200 || problem) {
          malformed.push({ status: response.status, problem, text: response.text.slice(0, 300) });
        }
        for (const error of (response.json as GraphQLBody | undefined)?.errors ?? []) {
          const code = String(error.extensions?.code);
          if (!UPSTREAM_CODES.has(code) || error.message === 'Unexpected error.') {
            unknownCodes.push(`${code}: ${String(error.message)}`);
          }
        }
      }

      // Reads.
      const queryAnswers = answers.filter(
        (answer): answer is { job: Extract<Job, { kind: 'query' }>; response: RawResponse } =>
          answer.job.kind === 'query',
      );
      const failedQueries = queryAnswers.filter(({ job, response }) => {
        const body = response.json as GraphQLBody | undefined;
        return !body?.data || (body.errors?.length ?? 0) > 0 || !job.ok(body.data);
      });
      const querySuccess = 1 - failedQueries.length / queryAnswers.length;

      // Writes: what the gateway answered...
      const dataOf = (response: RawResponse, field: string) =>
        ((response.json as GraphQLBody | undefined)?.data?.[field] ?? null) as Record<string, unknown> | null;
      const created = new Set<string>();
      const createFailed = new Set<string>();
      const attachedByAnswer = new Set<string>();
      const removedByAnswer = new Set<string>();
      let batchesAnswered = 0;
      let removePayloads = 0;
      let unanswered = 0;
      for (const { job, response } of answers) {
        if (job.kind === 'create') {
          const result = dataOf(response, 'createVectorStore');
          if (result?.__typename === 'CreateVectorStorePayload') created.add(job.name);
          else if (result) createFailed.add(job.name);
          else unanswered++;
        } else if (job.kind === 'add') {
          const result = dataOf(response, 'addFiles') as {
            __typename: string;
            fileBatches?: unknown[];
            failures?: Array<{ index: number }>;
          } | null;
          if (!result) unanswered++;
          if (result?.__typename !== 'AddFilesPayload') continue;
          batchesAnswered += result.fileBatches?.length ?? 0;
          const failedIndexes = new Set(result.failures?.map((failure) => failure.index));
          job.fileIds.forEach((id, index) => {
            if (!failedIndexes.has(index)) attachedByAnswer.add(id);
          });
        } else if (job.kind === 'remove') {
          const result = dataOf(response, 'removeFiles') as {
            __typename: string;
            failures?: Array<{ index: number }>;
          } | null;
          if (!result) unanswered++;
          if (result?.__typename !== 'RemoveFilesPayload') continue;
          removePayloads++;
          const failedIndexes = new Set(result.failures?.map((failure) => failure.index));
          job.fileIds.forEach((id, index) => {
            if (!failedIndexes.has(index)) removedByAnswer.add(id);
          });
        }
      }

      // ...against what the upstream holds. The emulator decides a fault before doing any work,
      // so a write answered as failed changed nothing, and the two must agree exactly.
      const allStores = await gateway.openai.vectorStores.list({ limit: 100 });
      const createdUpstream = allStores.data
        .map((store) => store.name ?? '')
        .filter((name) => name.startsWith('created-'));
      const attachedUpstream = (
        await gateway.openai.vectorStores.files.list(addStore, { limit: 100 })
      ).data.map((file) => file.id);
      const remainingUpstream = (
        await gateway.openai.vectorStores.files.list(removeStore.storeId, { limit: 100 })
      ).data.map((file) => file.id);
      const okCount = (route: string) => requests.filter((r) => r.route === route && r.status === 200).length;
      const faulted = {
        resets: requests.filter((r) => r.status === null).length,
        rateLimited: requests.filter((r) => r.status === 429).length,
        serverErrors: requests.filter((r) => r.status !== null && r.status >= 500).length,
      };
      const sent = (route: string) => byRoute[route] ?? 0;
      // Writes are never retried, so their attempts are their logical calls.
      const logicalCalls =
        logicalReads.ok + logicalReads.failed + sent(CREATE_ROUTE) + sent(BATCH_ROUTE) + sent(DETACH_ROUTE);
      // Upstream effects no answer accounts for: stores nobody was told about, batches and detaches
      // that went through more often than answered.
      const duplicates =
        Math.max(0, createdUpstream.length - created.size) +
        Math.max(0, okCount(BATCH_ROUTE) - batchesAnswered) +
        Math.max(0, okCount(DETACH_ROUTE) - removedByAnswer.size);

      console.log(
        `fault mix: ${queryAnswers.length} queries, ${(querySuccess * 100).toFixed(2)}% succeeded ` +
          `(${failedQueries.length} failed; logical reads ${logicalReads.ok + logicalReads.failed}, ` +
          `${((logicalReads.ok / (logicalReads.ok + logicalReads.failed)) * 100).toFixed(2)}% succeeded after retries); ` +
          `${jobs.length - queryAnswers.length} mutations: ${created.size}/${CREATES} stores created, ` +
          `${attachedByAnswer.size}/${ADDS * FILES_PER_WRITE} files attached, ` +
          `${removedByAnswer.size}/${REMOVES * FILES_PER_WRITE} removed, ${duplicates} duplicates ` +
          `(creates sent ${sent(CREATE_ROUTE)}, batches sent ${sent(BATCH_ROUTE)}, detaches sent ${sent(DETACH_ROUTE)}); ` +
          `upstream: ${upstreamAttempts} attempts for ~${logicalCalls} logical calls, ` +
          `${faulted.serverErrors} 5xx, ${faulted.rateLimited} 429, ${faulted.resets} resets; ` +
          `${malformed.length} malformed answers; ${watch.problems.length} unhandled rejections; ` +
          `${(elapsedMs / 1000).toFixed(1)} s at concurrency ${CONCURRENCY}`,
      );
      if (failedQueries.length > 0) {
        const codes = failedQueries.map(({ job, response }) => {
          const errors = (response.json as GraphQLBody).errors ?? [];
          return `${job.name}: ${errors.map((e) => e.extensions?.code).join(',')}`;
        });
        console.log(`fault mix: failed queries: ${codes.join('; ')}`);
      }

      expect(watch.problems).toEqual([]);
      expect(malformed).toEqual([]);
      expect(unknownCodes).toEqual([]);
      expect(unanswered).toBe(0);
      // The faults really were the mix asked for (within sampling noise).
      expect(faulted.serverErrors / upstreamAttempts).toBeGreaterThan(0.07);
      expect(faulted.rateLimited / upstreamAttempts).toBeGreaterThan(0.03);
      expect(faulted.resets / upstreamAttempts).toBeGreaterThan(0.01);
      expect(querySuccess).toBeGreaterThanOrEqual(0.99);

      // No write duplicated: each create sent once, and upstream holds exactly the answered ones.
      expect(duplicates).toBe(0);
      expect(byRoute[CREATE_ROUTE]).toBe(CREATES);
      expect(created.size + createFailed.size).toBe(CREATES);
      expect(createdUpstream.sort()).toEqual([...created].sort());
      // Each detach sent once (by the removals that got past reading their store); a batch sent
      // again only after a read showed it had not applied.
      expect(byRoute[DETACH_ROUTE]).toBe(removePayloads * FILES_PER_WRITE);
      expect(byRoute[BATCH_ROUTE]).toBeLessThanOrEqual(2 * ADDS);
      expect(okCount(BATCH_ROUTE)).toBe(batchesAnswered);
      expect(okCount(DETACH_ROUTE)).toBe(removedByAnswer.size);
      expect(attachedUpstream.sort()).toEqual([...attachedByAnswer].sort());
      expect(remainingUpstream.sort()).toEqual(
        removeStore.fileIds.filter((id) => !removedByAnswer.has(id)).sort(),
      );
      // The mix did exercise both outcomes of writes (all 50 going through: about 1 run in 10,000).
      const writesFailed =
        createFailed.size + (ADDS + REMOVES) * FILES_PER_WRITE - attachedByAnswer.size - removedByAnswer.size;
      expect(writesFailed).toBeGreaterThan(0);
      expect(created.size).toBeGreaterThan(0);
    } finally {
      watch.stop();
    }
    // A bound on a hang, not a speed check: the run takes 48-85 s on the shared 2-core machine and
    // went past 90 s there at a load average of 9 (Retry-After sleeps and CPU, no stuck request).
  }, 240_000);

  it('keeps the answer of an addFiles whose batch attached but cannot be read again', async () => {
    gateway = await startGateway({ app: { policy: { readRetries: 2 } } });
    const store = await gateway.openai.vectorStores.create({ name: 'read fails after write' });
    const fileIds = await uploadTextFiles(gateway.openai, 2);
    gateway.emulator.setFaults({
      routes: { 'GET /v1/vector_stores/{vector_store_id}/file_batches/{batch_id}': { errorRate: 1 } },
    });

    const response = await send(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: ADD, variables: { input: { vectorStoreId: store.id, fileIds } } }),
    });

    // The batch went through; only reading it again failed. The answer says what was attached.
    const body = response.json as GraphQLBody;
    expect(body.data?.addFiles).toMatchObject({
      __typename: 'AddFilesPayload',
      fileBatches: [{ openaiId: expect.stringMatching(/^vsfb_/) }],
      failures: [],
    });
    expect((await gateway.openai.vectorStores.files.list(store.id)).data).toHaveLength(2);
  });
});
