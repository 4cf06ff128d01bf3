import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { toFile } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { COOL_DOWNS } from '../../src/replicas/upstream-budget.ts';
import { type GraphQLResponse, TEST_API_KEY } from '../support/gateway.ts';
import { sendWithFormData } from '../support/multipart.ts';
import { closeReplicaSets, query, type ReplicaSet, startReplicaSet } from '../support/replicas.ts';
import { startServer } from '../support/server-process.ts';

const KEY = TEST_API_KEY.slice(-8);
const ATTACH = 'POST /v1/vector_stores/{vector_store_id}/files';

/** Handled at once, so a test that fails early leaves no rejection unhandled; `unsettled` rethrows. */
function settled<T>(pending: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return pending.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

function unsettled<T>(outcome: { value: T } | { error: unknown }): T {
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

/** One small file through createFiles (a multipart request): streamed to `POST /files`. */
function createFile(url: string, name: string): Promise<GraphQLResponse> {
  const query =
    'mutation ($input: CreateFilesInput!) { createFiles(input: $input) { ... on CreateFilesPayload { files { filename } } } }';
  return sendWithFormData({ url }, query, { purpose: 'ASSISTANTS' }, [
    { name, content: 'written during a cool-down' },
  ]);
}

/** One retrieve per store: aliases of `vectorStore`, which no list call can answer. */
function storesQuery(ids: readonly string[]): string {
  return `{ ${ids.map((id, i) => `s${i}: vectorStore(id: "${id}") { name }`).join(' ')} }`;
}

describe("a credential's upstream budget shared by replicas through Redis", () => {
  let set: ReplicaSet | undefined;
  afterEach(async () => {
    await closeReplicaSets();
    set = undefined;
  });

  it('keeps a concurrency limit of 8 over 3 replicas: the upstream never sees more in flight', async () => {
    set = await startReplicaSet({ count: 3, settings: { UPSTREAM_CONCURRENCY: '8' } });
    const stores = await Promise.all(
      Array.from({ length: 8 }, (_, i) => set!.openai.vectorStores.create({ name: `store ${i}` })),
    );
    // Calls of 150 ms, 8 to each request: 30 requests at once over 3 replicas are 240 calls, which
    // each replica's own limit of 8 would let out 24 at a time.
    set.emulator.setFaults({ latencyMs: 150 });
    set.emulator.resetStats();
    const text = storesQuery(stores.map((store) => store.id));
    const { replicas } = set;
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => query(replicas[i % replicas.length]!.url, text)),
    );
    for (const answer of answers) {
      expect(answer.errors).toBeUndefined();
      expect(Object.values(answer.data!).map((store) => (store as { name: string }).name)).toEqual(
        stores.map((store) => store.name),
      );
    }
    const { maxInFlight, total } = set.emulator.stats();
    console.log(
      `240 calls through 3 replicas, limit 8: at most ${maxInFlight[KEY]} in flight (${total} calls)`,
    );
    expect(total).toBe(240);
    expect(maxInFlight[KEY]).toBeLessThanOrEqual(8);
    // Pressed: the bound is what held the calls back, not a load too thin to reach it.
    expect(maxInFlight[KEY]).toBeGreaterThanOrEqual(6);
  }, 90_000);

  it('honours a 429 Retry-After of 5 s on every replica: at most one more call in those 5 s', async () => {
    set = await startReplicaSet({ count: 3 });
    const limited = await set.openai.vectorStores.create({ name: 'limited' });
    const other = await set.openai.vectorStores.create({ name: 'other' });
    const { emulator, replicas } = set;
    emulator.setFaults({
      paths: { [`GET /v1/vector_stores/${limited.id}`]: { rateLimitRate: 1, retryAfterSeconds: 5 } },
    });
    emulator.resetStats();
    // The replica that meets the 429 tells the others on this channel; the test listens too, to
    // know when the 429 has been seen rather than only sent.
    const listener = set.redis.client.duplicate();
    await listener.subscribe(COOL_DOWNS);
    const told = once(listener, 'message');
    const first = settled(query(replicas[0]!.url, storesQuery([limited.id])));
    await told;
    listener.disconnect();
    // The fault is lifted: what follows is up to the gateway.
    expect(emulator.stats().requests.map((request) => request.status)).toEqual([429]);
    emulator.setFaults(null);
    const limitedAt = Date.now();
    const before = emulator.stats().total;

    // A file streamed to POST /files, which does not go through the SDK, waits it out as well.
    const upload = settled(createFile(replicas[1]!.url, 'during.txt'));
    // Every replica is asked for the other store, four times a second, during the cool-down.
    const during: Array<ReturnType<typeof settled<GraphQLResponse>>> = [];
    while (Date.now() - limitedAt < 4_000) {
      for (const replica of replicas) during.push(settled(query(replica.url, storesQuery([other.id]))));
      await sleep(250);
    }
    const inCoolDown = emulator.stats().total - before;
    console.log(
      `calls in the 4 s after a 429 with Retry-After 5, 3 replicas asked ${during.length} times: ${inCoolDown}`,
    );
    expect(inCoolDown).toBeLessThanOrEqual(1);
    expect(set.routeCalls('POST /v1/files')).toBe(0);

    // Then it goes through.
    const created = unsettled(await upload);
    expect(created.data).toEqual({ createFiles: { files: [{ filename: 'during.txt' }] } });

    // Then everyone goes on: the first request's retry and every waiting one are answered.
    const answers = await Promise.all([first, ...during].map((answer) => answer.then(unsettled)));
    expect(answers[0]!.data).toEqual({ s0: { name: 'limited' } });
    for (const answer of answers.slice(1)) expect(answer.data).toEqual({ s0: { name: 'other' } });
    expect(emulator.stats().total - before).toBeGreaterThanOrEqual(during.length);
  }, 90_000);

  it("counts each store's attach writes of the minute over 3 replicas: 5 a minute lets 5 through", async () => {
    set = await startReplicaSet({ count: 3, settings: { STORE_WRITES_PER_MINUTE: '5' } });
    const { emulator, openai, replicas } = set;
    const [busy, quiet] = await Promise.all([
      openai.vectorStores.create({ name: 'busy' }),
      openai.vectorStores.create({ name: 'quiet' }),
    ]);
    const files = await Promise.all(
      Array.from({ length: 10 }, async (_, i) =>
        openai.files.create({
          file: await toFile(Buffer.from(`file ${i}`), `f${i}.txt`),
          purpose: 'assistants',
        }),
      ),
    );
    const attach = (replica: number, storeId: string, fileId: string) =>
      query(
        replicas[replica % replicas.length]!.url,
        `mutation { attachFile(input: { vectorStoreId: "${storeId}", fileId: "${fileId}" }) {
          __typename ... on RateLimitedError { message retryAfter } } }`,
      );
    // Nine writes to one store, three from each replica at once; each replica alone would allow 5.
    const answers = await Promise.all(files.slice(0, 9).map((file, i) => attach(i, busy.id, file.id)));
    const results = answers.map(
      (answer) => answer.data?.attachFile as { __typename: string; message?: string; retryAfter?: number },
    );
    expect(results.filter((result) => result?.__typename === 'AttachFilePayload')).toHaveLength(5);
    const refused = results.filter((result) => result?.__typename === 'RateLimitedError');
    expect(refused).toHaveLength(4);
    for (const answer of refused) {
      expect(answer.message).toMatch(
        /^The store takes at most 5 attach writes a minute\. Retry after \d+ s\.$/,
      );
      expect(answer.retryAfter).toBeGreaterThan(10);
    }
    expect(set.routeCalls(ATTACH)).toBe(5);
    // Another store has writes of its own.
    const other = await attach(0, quiet.id, files[9]!.id);
    expect(other.data).toEqual({ attachFile: { __typename: 'AttachFilePayload' } });
    expect(set.routeCalls(ATTACH)).toBe(6);
    expect(emulator.inspect().files).toBe(10);
  }, 60_000);

  it('lets a replica started during a cool-down wait it out too: it learns of it from Redis', async () => {
    set = await startReplicaSet({ count: 1 });
    const limited = await set.openai.vectorStores.create({ name: 'limited' });
    const other = await set.openai.vectorStores.create({ name: 'other' });
    const { emulator, replicas } = set;
    // Longer than the gateway waits within a call: the call fails at once, the cool-down holds.
    emulator.setFaults({
      paths: { [`GET /v1/vector_stores/${limited.id}`]: { rateLimitRate: 1, retryAfterSeconds: 15 } },
    });
    const refused = await query(replicas[0]!.url, storesQuery([limited.id]));
    const limitedAt = Date.now();
    expect(refused.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    emulator.setFaults(null);
    const before = emulator.stats().total;

    const late = await startServer({ ...set.settings });
    try {
      const startedAfterMs = Date.now() - limitedAt;
      expect(startedAfterMs, 'the replica must start well within the cool-down').toBeLessThan(10_000);
      const answer = settled(query(late.url, storesQuery([other.id])));
      await sleep(12_000 - startedAfterMs);
      // 12 s into a 15 s cool-down: the late replica has sent nothing.
      expect(emulator.stats().total - before).toBe(0);
      expect(unsettled(await answer).data).toEqual({ s0: { name: 'other' } });
      expect(Date.now() - limitedAt).toBeGreaterThanOrEqual(14_000);
    } finally {
      await late.stop('SIGKILL');
    }
  }, 60_000);
});
