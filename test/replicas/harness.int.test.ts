import { afterEach, describe, expect, it } from 'vitest';
import { closeReplicaSets, query, type ReplicaSet, startReplicaSet } from '../support/replicas.ts';
import { startServer } from '../support/server-process.ts';

const LIST_ROUTE = 'GET /v1/vector_stores';

describe('replicas sharing one Redis', () => {
  let set: ReplicaSet | undefined;
  afterEach(async () => {
    await closeReplicaSets();
    set = undefined;
  });

  it('starts three gateways on one Redis and one emulator, each serving its own clients', async () => {
    set = await startReplicaSet({ count: 3 });
    await set.openai.vectorStores.create({ name: 'shared' });
    for (const replica of set.replicas) {
      expect(replica.output()).toContain(`as replica`);
      const answer = await query(replica.url, '{ vectorStores(first: 5) { nodes { name } } }');
      expect(answer.data).toEqual({ vectorStores: { nodes: [{ name: 'shared' }] } });
    }
    expect(set.routeCalls(LIST_ROUTE)).toBe(3);
    // Each replica holds its two connections, named after its replica id (host, pid, a random part).
    const clients = String(await set.redis.client.client('LIST'));
    for (const replica of set.replicas) {
      expect(clients).toContain(`name=vector-store-gateway:`);
      expect(
        clients.match(new RegExp(`:${replica.pid}:[0-9a-f]{8}:(commands|subscriber) `, 'g')),
      ).toHaveLength(2);
    }
  }, 90_000);

  it('refuses to start, in one line, when REDIS_URL names no Redis', async () => {
    set = await startReplicaSet({ count: 0 });
    const url = set.redis.url;
    await set.redis.stop();
    await expect(startServer({ REDIS_URL: url })).rejects.toThrow(/cannot reach Redis at REDIS_URL/);
  }, 90_000);

  it('keeps answering when Redis goes away, and says so once', async () => {
    set = await startReplicaSet({ count: 1 });
    await set.openai.vectorStores.create({ name: 'alone' });
    const [replica] = set.replicas;
    await set.redis.stop();
    // Its calls go on under the replica's own limit, each after Redis has failed it.
    for (let i = 0; i < 3; i++) {
      const answer = await query(replica!.url, '{ vectorStores(first: 5) { nodes { name } } }');
      expect(answer.data).toEqual({ vectorStores: { nodes: [{ name: 'alone' }] } });
    }
    const said = replica!.output().match(/Redis at REDIS_URL \(commands\): .*; reconnecting/g) ?? [];
    expect(said).toHaveLength(1);
  }, 90_000);
});
