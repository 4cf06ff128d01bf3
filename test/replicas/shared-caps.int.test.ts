import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeGlobalId } from '../../src/schema/ids.ts';
import { uploadTextFiles } from '../support/gateway.ts';
import { closeReplicaSets, type ReplicaSet, startReplicaSet } from '../support/replicas.ts';
import { type SseSubscription, subscribe } from '../support/sse.ts';

type BatchData = { fileBatch: { status: string } };
const BATCH_SUBSCRIPTION = /* GraphQL */ `
  subscription Batch($id: ID!) { fileBatch(id: $id, deadlineSeconds: 120) { status } }`;
const CAP = 6;

describe('caps on watches counted across replicas through Redis', () => {
  let set: ReplicaSet | undefined;
  const open: Array<SseSubscription<BatchData>> = [];
  afterEach(async () => {
    for (const stream of open.splice(0)) stream.close();
    await closeReplicaSets();
    set = undefined;
  });

  it(`admits ${CAP} watches of a credential over 3 replicas, not ${CAP} on each, and frees a dead replica's`, async () => {
    set = await startReplicaSet({ count: 3, settings: { MAX_SUBSCRIPTIONS_PER_CREDENTIAL: String(CAP) } });
    set.emulator.setProcessing({ hold: true });
    const store = await set.openai.vectorStores.create({ name: 'capped' });
    const fileIds = await uploadTextFiles(set.openai, 1);
    const batch = await set.openai.vectorStores.fileBatches.create(store.id, { file_ids: fileIds });
    const id = encodeGlobalId('FileBatch', `${store.id}:${batch.id}`);
    const { replicas } = set;
    /** The first thing a new watch on this replica hears: a status, or the code of its error. */
    const watch = async (replica: number) => {
      const stream = subscribe<BatchData>(replicas[replica]!.url, BATCH_SUBSCRIPTION, { id });
      open.push(stream);
      const first = await stream.next();
      return { stream, heard: first?.data?.fileBatch.status ?? first?.errors?.[0]?.extensions?.code };
    };

    const admitted = [];
    for (let i = 0; i < CAP; i++) admitted.push(await watch(i % 3));
    expect(admitted.map(({ heard }) => heard)).toEqual(admitted.map(() => 'IN_PROGRESS'));
    // Each replica has only 2 of its own: only the shared count refuses these.
    for (const replica of [0, 1, 2]) expect((await watch(replica)).heard).toBe('TOO_MANY_SUBSCRIPTIONS');

    // A watch that ends gives its place back to any replica.
    admitted[0]!.stream.close();
    let next = await watch(1);
    for (const until = Date.now() + 5_000; next.heard !== 'IN_PROGRESS' && Date.now() < until; ) {
      await sleep(200);
      next = await watch(1);
    }
    expect(next.heard).toBe('IN_PROGRESS');

    // A replica killed with its watches open: their places expire, and the others take them.
    await replicas[2]!.stop('SIGKILL');
    const killedAt = Date.now();
    expect((await watch(0)).heard).toBe('TOO_MANY_SUBSCRIPTIONS');
    let later = await watch(0);
    while (later.heard !== 'IN_PROGRESS' && Date.now() - killedAt < 30_000) {
      await sleep(500);
      later = await watch(0);
    }
    expect(later.heard).toBe('IN_PROGRESS');
    // Each place expires on its own clock (renewed apart), so the second may come back a moment
    // after the first.
    let second = await watch(1);
    while (second.heard !== 'IN_PROGRESS' && Date.now() - killedAt < 30_000) {
      await sleep(500);
      second = await watch(1);
    }
    console.log(`places of a killed replica's 2 watches came back after ${Date.now() - killedAt} ms`);
    expect(second.heard).toBe('IN_PROGRESS');
    // Two places came back, not more: the cap holds again.
    expect((await watch(1)).heard).toBe('TOO_MANY_SUBSCRIPTIONS');
  }, 90_000);

  it('caps the objects polled for a credential over all replicas, each counted once', async () => {
    set = await startReplicaSet({ count: 3, settings: { MAX_POLLED_OBJECTS_PER_CREDENTIAL: '2' } });
    set.emulator.setProcessing({ hold: true });
    const ids = [];
    for (const name of ['a', 'b', 'c']) {
      const store = await set.openai.vectorStores.create({ name });
      const fileIds = await uploadTextFiles(set.openai, 1, name);
      const batch = await set.openai.vectorStores.fileBatches.create(store.id, { file_ids: fileIds });
      ids.push(encodeGlobalId('FileBatch', `${store.id}:${batch.id}`));
    }
    const [a, b, c] = ids as [string, string, string];
    const { replicas } = set;
    const watch = async (replica: number, id: string) => {
      const stream = subscribe<BatchData>(replicas[replica]!.url, BATCH_SUBSCRIPTION, { id });
      open.push(stream);
      const first = await stream.next();
      return { stream, heard: first?.data?.fileBatch.status ?? first?.errors?.[0]?.extensions?.code };
    };

    const onA = await watch(0, a);
    const onB = await watch(1, b);
    expect([onA.heard, onB.heard]).toEqual(['IN_PROGRESS', 'IN_PROGRESS']);
    // Replica 2 polls nothing of its own: only the shared count refuses a third object...
    expect((await watch(2, c)).heard).toBe('TOO_MANY_SUBSCRIPTIONS');
    // ...while an object already polled elsewhere costs nothing more.
    expect((await watch(2, a)).heard).toBe('IN_PROGRESS');
    // The second object's last watcher leaves: its place is free for the third.
    onB.stream.close();
    let onC = await watch(2, c);
    for (const until = Date.now() + 10_000; onC.heard !== 'IN_PROGRESS' && Date.now() < until; ) {
      await sleep(200);
      onC = await watch(2, c);
    }
    expect(onC.heard).toBe('IN_PROGRESS');
    expect((await watch(0, b)).heard).toBe('TOO_MANY_SUBSCRIPTIONS');
  }, 90_000);
});
