import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeGlobalId } from '../../src/schema/ids.ts';
import { uploadTextFiles } from '../support/gateway.ts';
import { closeReplicaSets, type ReplicaSet, startReplicaSet } from '../support/replicas.ts';
import { type SseSubscription, subscribe } from '../support/sse.ts';

const BATCH_ROUTE = 'GET /v1/vector_stores/{vector_store_id}/file_batches/{batch_id}';
const SUBSCRIBERS = 300;
const RELEASE_AFTER_POLLS = 9;
/** 300 watches on one credential: past the default cap of 200 for a single process. */
const SETTINGS = { MAX_SUBSCRIPTIONS_PER_CREDENTIAL: String(SUBSCRIBERS + 100) };

type BatchData = { fileBatch: { status: string; fileCounts: { inProgress: number; completed: number } } };
const BATCH_SUBSCRIPTION = /* GraphQL */ `
  subscription Batch($id: ID!, $deadline: Int) {
    fileBatch(id: $id, deadlineSeconds: $deadline) { status fileCounts { inProgress completed } }
  }`;

async function createBatch(set: ReplicaSet, files: number): Promise<string> {
  const store = await set.openai.vectorStores.create({ name: 'watched' });
  const fileIds = await uploadTextFiles(set.openai, files);
  const batch = await set.openai.vectorStores.fileBatches.create(store.id, { file_ids: fileIds });
  return encodeGlobalId('FileBatch', `${store.id}:${batch.id}`);
}

/** Every status each subscriber saw, in order, once all streams have ended. */
async function statusesOf(streams: Array<SseSubscription<BatchData>>): Promise<string[][]> {
  const ends = await Promise.all(streams.map((stream) => stream.rest()));
  return ends.map(({ results }) =>
    results.map((result) => result.data?.fileBatch?.status ?? `error ${JSON.stringify(result.errors)}`),
  );
}

describe('status pollers shared by replicas through Redis', () => {
  let set: ReplicaSet | undefined;
  const open: Array<SseSubscription<BatchData>> = [];
  afterEach(async () => {
    for (const stream of open.splice(0)) stream.close();
    await closeReplicaSets();
    set = undefined;
  });

  /**
   * The batch is held in progress until the upstream has been asked for it 9 times, then let
   * finish: one poller sees it completed at its 10th read, however late a loaded machine makes
   * each (it reads at about 0, 0.25, 0.6, 1.2, 2.0, 3.3, 5.2, 8.0, 12.3 and 17.3 s, backing off
   * while nothing changes, so the 10th comes seconds after the 9th, long after the release).
   * Pollers of their own on each replica would have read it more often by then.
   */
  async function pollsFor(replicas: number): Promise<{ polls: number; statuses: string[][] }> {
    set = await startReplicaSet({
      count: replicas,
      redis: replicas > 1,
      settings: SETTINGS,
      emulator: { processingDelayMs: 0 },
    });
    set.emulator.setProcessing({ hold: true });
    const id = await createBatch(set, 3);
    const before = set.routeCalls(BATCH_ROUTE);
    const { replicas: gateways } = set;
    const watch = (index: number) =>
      subscribe<BatchData>(gateways[index % gateways.length]!.url, BATCH_SUBSCRIPTION, { id, deadline: 60 });
    // The first subscriber starts the polling, and has heard its first state, before the others
    // come: when the polls begin does not depend on how long 300 subscriptions take to open.
    const firstStream = watch(0);
    open.push(firstStream);
    const firstEvent = await firstStream.next();
    const { emulator } = set;
    const release = setInterval(() => {
      if (set!.routeCalls(BATCH_ROUTE) - before < RELEASE_AFTER_POLLS) return;
      emulator.setProcessing({ hold: false });
      clearInterval(release);
    }, 10);
    const streams = Array.from({ length: SUBSCRIBERS - 1 }, (_, index) => watch(index + 1));
    open.push(...streams);
    const statuses = [
      [firstEvent?.data?.fileBatch.status ?? 'none', ...(await statusesOf([firstStream]))[0]!],
      ...(await statusesOf(streams)),
    ];
    clearInterval(release);
    const polls = set.routeCalls(BATCH_ROUTE) - before;
    await set.close();
    set = undefined;
    return { polls, statuses };
  }

  it(`polls a batch ${SUBSCRIBERS} subscribers on 3 replicas watch about as often as one process does`, async () => {
    const single = await pollsFor(1);
    const shared = await pollsFor(3);
    console.log(
      `polls of one batch, ${SUBSCRIBERS} subscribers: 1 process ${single.polls}, 3 replicas ${shared.polls}`,
    );
    for (const { statuses } of [single, shared]) {
      expect(statuses).toHaveLength(SUBSCRIBERS);
      for (const seen of statuses) {
        expect(seen.at(-1)).toBe('COMPLETED');
        expect(seen.slice(0, -1).every((status) => status === 'IN_PROGRESS')).toBe(true);
      }
    }
    // Three pollers of their own would be 3x; one shared poller is the single process's count.
    expect(single.polls).toBe(RELEASE_AFTER_POLLS + 1);
    expect(shared.polls).toBeLessThanOrEqual(Math.floor(single.polls * 1.1));
  }, 120_000);

  it('hands the lease on when its holder is killed: survivors hear the next change within 12 s', async () => {
    set = await startReplicaSet({ count: 3, settings: SETTINGS, emulator: { processingDelayMs: 0 } });
    // Held in progress until the test lets the files finish.
    set.emulator.setProcessing({ hold: true });
    const id = await createBatch(set, 2);
    const gateways = set.replicas;
    const streams = Array.from({ length: 30 }, (_, index) => ({
      replica: index % gateways.length,
      stream: subscribe<BatchData>(gateways[index % gateways.length]!.url, BATCH_SUBSCRIPTION, {
        id,
        deadline: 120,
      }),
    }));
    open.push(...streams.map(({ stream }) => stream));
    // Everyone has heard the first state, so a poller runs and holds the lease.
    const first = await Promise.all(streams.map(({ stream }) => stream.next()));
    expect(first.map((event) => event?.data?.fileBatch.status)).toEqual(streams.map(() => 'IN_PROGRESS'));

    const leases = await set.redis.client.keys('vsg:live:lease:*');
    expect(leases).toHaveLength(1);
    // The lease's value is the holder's replica id (host, pid, a random part) and a token.
    const holderPid = Number((await set.redis.client.get(leases[0]!))!.split(':').at(-3));
    const holder = gateways.findIndex((replica) => replica.pid === holderPid);
    expect(holder).toBeGreaterThanOrEqual(0);

    await gateways[holder]!.stop('SIGKILL');
    const killedAt = Date.now();
    set.emulator.setProcessing({ hold: false });
    const survivors = streams.filter(({ replica }) => replica !== holder);
    const heardAfter = await Promise.all(
      survivors.map(async ({ stream }) => {
        const next = await stream.next();
        return { status: next?.data?.fileBatch.status, ms: Date.now() - killedAt };
      }),
    );
    const slowest = Math.max(...heardAfter.map(({ ms }) => ms));
    console.log(`after SIGKILL of the lease holder, the last survivor heard COMPLETED in ${slowest} ms`);
    expect(heardAfter.map(({ status }) => status)).toEqual(survivors.map(() => 'COMPLETED'));
    expect(slowest).toBeLessThanOrEqual(12_000);
    // And each survivor's stream then ends.
    for (const { stream } of survivors) expect(await stream.next()).toBeNull();
  }, 120_000);

  it("keeps a credential's poll rate over 3 replicas: 2 a second, whichever replica polls", async () => {
    set = await startReplicaSet({
      count: 3,
      settings: { POLLS_PER_SECOND_PER_CREDENTIAL: '2' },
      emulator: { processingDelayMs: 0 },
    });
    set.emulator.setProcessing({ hold: true });
    // Nine batches, three watched on each replica: their pollers would read about 4 times each
    // in their first 1.2 s, 36 reads, and each replica alone would let 2 a second through.
    const ids = await Promise.all(Array.from({ length: 9 }, () => createBatch(set!, 1)));
    const before = set.routeCalls(BATCH_ROUTE);
    const startedAt = Date.now();
    const { replicas } = set;
    const streams = ids.map((id, index) =>
      subscribe<BatchData>(replicas[index % replicas.length]!.url, BATCH_SUBSCRIPTION, { id, deadline: 30 }),
    );
    open.push(...streams);
    // Every stream's first state needs a read of its own, so they come at the shared pace too.
    const first = await Promise.all(streams.map((stream) => stream.next()));
    expect(first.map((event) => event?.data?.fileBatch.status)).toEqual(ids.map(() => 'IN_PROGRESS'));
    await sleep(3_000);
    const reads = set.routeCalls(BATCH_ROUTE) - before;
    const seconds = (Date.now() - startedAt) / 1000;
    // The counter's windows are whole seconds: at most 2 in each, and the seconds the first
    // reads fell in. Each replica counting alone would have allowed 6 a second.
    expect(reads).toBeLessThanOrEqual(2 * (Math.ceil(seconds) + 2));
    expect(reads).toBeGreaterThanOrEqual(9);
  }, 90_000);
});
