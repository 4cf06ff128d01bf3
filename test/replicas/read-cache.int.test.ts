import { afterEach, describe, expect, it } from 'vitest';
import { DASHBOARD } from '../support/dashboard.ts';
import { seedStore, uploadTextFiles } from '../support/gateway.ts';
import { closeReplicaSets, query, type ReplicaSet, startReplicaSet } from '../support/replicas.ts';

type Dashboard = { vectorStores: { edges: Array<{ node: { id: string; name: string } }> } };

describe('the response cache shared by replicas through Redis', () => {
  let set: ReplicaSet | undefined;
  afterEach(async () => {
    await closeReplicaSets();
    set = undefined;
  });

  it('answers the dashboard on a second replica without upstream calls, and fresh after a mutation', async () => {
    set = await startReplicaSet({ count: 2, settings: { RESPONSE_CACHE_TTL_MS: '20000' } });
    for (let store = 0; store < 20; store++) {
      await seedStore(set.openai, { name: `store-${store}`, files: 10 });
    }
    const [first, second] = set.replicas as [ReplicaSet['replicas'][0], ReplicaSet['replicas'][0]];
    const { emulator } = set;

    emulator.resetStats();
    const cold = await query<Dashboard>(first.url, DASHBOARD);
    expect(cold.errors).toBeUndefined();
    expect(cold.data!.vectorStores.edges).toHaveLength(20);
    const coldCalls = emulator.stats().total;

    emulator.resetStats();
    const warm = await query<Dashboard>(second.url, DASHBOARD);
    const warmCalls = emulator.stats().total;
    console.log(
      `dashboard (20 stores, 10 files each): ${coldCalls} calls on one replica, then ${warmCalls} on another`,
    );
    expect(coldCalls).toBe(22);
    expect(warmCalls).toBe(0);
    expect(warm.data).toEqual(cold.data);

    // A mutation on either replica: the next read anywhere is fresh.
    const renamed = cold.data!.vectorStores.edges[3]!.node;
    const update = await query(
      second.url,
      `mutation($id: ID!) { updateVectorStore(input: { id: $id, name: "renamed" }) { __typename } }`,
      { id: renamed.id },
    );
    expect(update.errors).toBeUndefined();
    emulator.resetStats();
    const fresh = await query<Dashboard>(first.url, DASHBOARD);
    expect(fresh.data!.vectorStores.edges.find((edge) => edge.node.id === renamed.id)?.node.name).toBe(
      'renamed',
    );
    expect(emulator.stats().total).toBe(22);
  }, 120_000);

  it('never keeps an object still in progress', async () => {
    set = await startReplicaSet({ count: 2, settings: { RESPONSE_CACHE_TTL_MS: '20000' } });
    set.emulator.setProcessing({ hold: true });
    const store = await set.openai.vectorStores.create({ name: 'busy' });
    const [fileId] = await uploadTextFiles(set.openai, 1);
    await set.openai.vectorStores.files.create(store.id, { file_id: fileId! });
    const read = `{ vectorStore(id: "${store.id}") { name fileCounts { inProgress } } }`;
    set.emulator.resetStats();
    for (const replica of [...set.replicas, ...set.replicas]) {
      const answer = await query(replica.url, read);
      expect(answer.data).toEqual({ vectorStore: { name: 'busy', fileCounts: { inProgress: 1 } } });
    }
    expect(set.emulator.stats().total).toBe(4);
    // Once it has finished it is kept: the second read costs nothing.
    set.emulator.setProcessing({ hold: false });
    set.emulator.resetStats();
    const done = `{ vectorStore(id: "${store.id}") { name fileCounts { inProgress completed } } }`;
    for (const replica of set.replicas) {
      expect((await query(replica.url, done)).data).toEqual({
        vectorStore: { name: 'busy', fileCounts: { inProgress: 0, completed: 1 } },
      });
    }
    expect(set.emulator.stats().total).toBe(1);
  }, 60_000);
});
