import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { COOL_DOWNS } from '../../src/replicas/upstream-budget.ts';
import { type GraphQLResponse, TEST_API_KEY } from '../support/gateway.ts';
import { closeReplicaSets, type ReplicaSet, startReplicaSet } from '../support/replicas.ts';

const KEY = TEST_API_KEY.slice(-8);

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

async function query(url: string, text: string): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: text }),
  });
  return (await response.json()) as GraphQLResponse;
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

    // Then everyone goes on: the first request's retry and every waiting one are answered.
    const answers = await Promise.all([first, ...during].map((answer) => answer.then(unsettled)));
    expect(answers[0]!.data).toEqual({ s0: { name: 'limited' } });
    for (const answer of answers.slice(1)) expect(answer.data).toEqual({ s0: { name: 'other' } });
    expect(emulator.stats().total - before).toBeGreaterThanOrEqual(during.length);
  }, 90_000);
});
