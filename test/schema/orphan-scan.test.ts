import { createHmac } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { ScanCache } from '../../src/schema/files/orphan-cache.ts';
import { decodeCursor, encodeCursor, type OrphanCursor } from '../../src/schema/files/orphan-cursor.ts';
import { recheckStores } from '../../src/schema/files/orphan-recheck.ts';
import { CallAllowance, ScanState, scanPage } from '../../src/schema/files/orphan-scan.ts';
import { createUpstreamClient, defaultUpstreamPolicy, Upstream } from '../../src/upstream/index.ts';
import { ManualClock } from '../support/clock.ts';
import { IN_PROCESS_ORIGIN, inProcessFetch } from '../support/in-process.ts';

const signer = (key: string) => (data: string) => createHmac('sha256', key).update(data).digest();

describe('the orphan scan cursor', () => {
  const cursor: OrphanCursor = {
    scanId: 'c2Nhbi1pZC1vZi10ZXN0',
    purpose: 'assistants',
    olderThanSeconds: 3600,
    cutoff: 1_790_000_000,
    position: { id: 'file-abc123', createdAt: 1_789_999_000 },
  };

  it('reads back what it was written with, for the credential it was written for only', () => {
    const text = encodeCursor(cursor, signer('a'));
    expect(text.length).toBeLessThan(250);
    expect(decodeCursor(text, signer('a'))).toEqual({ ok: true, cursor });
    expect(decodeCursor(encodeCursor({ ...cursor, position: null }, signer('a')), signer('a'))).toEqual({
      ok: true,
      cursor: { ...cursor, position: null },
    });
    expect(decodeCursor(text, signer('b'))).toEqual({ ok: false, problem: 'foreign' });
  });

  it('refuses an altered cursor as foreign, and anything else as malformed', () => {
    const [body = '', mac = ''] = encodeCursor(cursor, signer('a')).split('.');
    const forged = Buffer.from(JSON.stringify([1, 'x', 'assistants', 0, 2_000_000_000, null, null])).toString(
      'base64url',
    );
    expect(decodeCursor(`${forged}.${mac}`, signer('a'))).toEqual({ ok: false, problem: 'foreign' });
    const wrongShape = Buffer.from(JSON.stringify({ scanId: 'x' })).toString('base64url');
    for (const text of [
      '',
      'abc',
      `${body}.`,
      `${body}.${mac}.x`,
      `${body}.${mac.slice(2)}`,
      `${wrongShape}.${signer('a')(`orphan-scan-cursor:${wrongShape}`).subarray(0, 16).toString('base64url')}`,
      'x'.repeat(2000),
    ]) {
      expect(decodeCursor(text, signer('a')), text.slice(0, 30)).toEqual({ ok: false, problem: 'malformed' });
    }
  });
});

describe('the orphan scan cache', () => {
  const weighed = (weight: number) => ({ weight: () => weight });
  const limits = { ttlMs: 1000, entriesPerCredential: 2, entries: 3, weight: 100 };

  async function isKept(cache: ScanCache<{ weight(): number }>, owner: string, scanId: string) {
    return cache.use(
      owner,
      scanId,
      () => weighed(1),
      async (_state, created) => !created,
    );
  }

  it('drops a scan idle past its time to live', async () => {
    let now = 0;
    const cache = new ScanCache(limits, () => now);
    await cache.use(
      'a',
      's1',
      () => weighed(1),
      async () => undefined,
    );
    now = 999;
    expect(await isKept(cache, 'a', 's1')).toBe(true);
    now = 2000;
    expect(await isKept(cache, 'a', 's1')).toBe(false);
  });

  it("evicts a credential's least recently used scan past its share, not another credential's", async () => {
    const cache = new ScanCache(limits);
    await cache.use(
      'b',
      'other',
      () => weighed(1),
      async () => undefined,
    );
    for (const scanId of ['s1', 's2', 's3'])
      await cache.use(
        'a',
        scanId,
        () => weighed(1),
        async () => undefined,
      );
    expect(cache.size).toBe(3);
    expect(await isKept(cache, 'b', 'other')).toBe(true);
    expect(await isKept(cache, 'a', 's3')).toBe(true);
    expect(await isKept(cache, 'a', 's1')).toBe(false);
  });

  it('keeps the ids held under its weight, dropping the least recently used, and one too heavy alone', async () => {
    const cache = new ScanCache(limits);
    await cache.use(
      'a',
      'light',
      () => weighed(40),
      async () => undefined,
    );
    await cache.use(
      'b',
      'heavy',
      () => weighed(70),
      async () => undefined,
    );
    expect(cache.size).toBe(1);
    expect(await isKept(cache, 'a', 'light')).toBe(false);
    await cache.use(
      'c',
      'huge',
      () => weighed(101),
      async () => undefined,
    );
    expect(await isKept(cache, 'c', 'huge')).toBe(false);
  });

  it('never runs two pages of one scan at once, and keeps state a failed page built', async () => {
    const cache = new ScanCache<{ weight(): number; pages: string[] }>(limits);
    const create = () => ({ weight: () => 1, pages: [] as string[] });
    const order: string[] = [];
    const page = (name: string, ms: number) =>
      cache.use('a', 's', create, async (state) => {
        order.push(`${name} start`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        state.pages.push(name);
        order.push(`${name} end`);
        if (name === 'failing') throw new Error('upstream failed');
      });
    await Promise.all([page('failing', 20).catch(() => undefined), page('next', 1)]);
    expect(order).toEqual(['failing start', 'failing end', 'next start', 'next end']);
    expect(await cache.use('a', 's', create, async (state) => state.pages)).toEqual(['failing', 'next']);
  });
});

describe('the orphan scan against the emulator', () => {
  let emulator: Emulator;
  afterEach(() => emulator.close());

  function setUp() {
    const clock = new ManualClock(Date.now() - 86_400_000);
    emulator = createEmulator({ clock });
    const transport = {
      apiKey: 'sk-test',
      baseURL: `${IN_PROCESS_ORIGIN}/v1`,
      fetch: inProcessFetch(emulator.handle),
    };
    const policy = { ...defaultUpstreamPolicy, readRetries: 0 };
    const upstream = new Upstream(createUpstreamClient(transport, policy), policy);
    const openai = new OpenAI({ ...transport, maxRetries: 0 });
    const upload = async (name: string) =>
      (await openai.files.create({ file: await toFile(Buffer.from(name), name), purpose: 'assistants' })).id;
    const cursor: OrphanCursor = {
      scanId: 's',
      purpose: 'assistants',
      olderThanSeconds: 0,
      cutoff: Math.floor(Date.now() / 1000),
      position: null,
    };
    return { clock, upstream, openai, upload, cursor };
  }

  it('reads a store again from its start when the file its list stood at was detached', async () => {
    const { upstream, openai, upload, cursor } = setUp();
    const attached: string[] = [];
    for (let k = 0; k < 150; k++) attached.push(await upload(`kept-${k}.txt`));
    const orphan = await upload('orphan.txt');
    const store = await openai.vectorStores.create({ name: 'big' });
    await openai.vectorStores.fileBatches.create(store.id, { file_ids: attached });
    const state = new ScanState();
    // The listing and the first page of the store: then the allowance is spent.
    const first = await scanPage(upstream, state, cursor, 10, new CallAllowance(2));
    expect(first.orphans).toEqual([]);
    expect(state.storeFilesAfter).toBeDefined();
    await openai.vectorStores.files.delete(state.storeFilesAfter!, { vector_store_id: store.id });
    const second = await scanPage(upstream, state, cursor, 10, new CallAllowance(5));
    expect(second.orphans.map((file) => file.id)).toEqual([orphan]);
    expect(second.progress).toMatchObject({ complete: true, storesScanned: 1 });
  });

  it('goes on after a position whose file was deleted since, skipping the seconds before it', async () => {
    const { clock, upstream, openai, upload, cursor } = setUp();
    const kept = await upload('kept.txt');
    await openai.vectorStores.create({ name: 'store', file_ids: [kept] });
    const orphans: string[] = [];
    for (let k = 0; k < 4; k++) {
      clock.advance(1000);
      orphans.push(await upload(`orphan-${k}.txt`));
    }
    const state = new ScanState();
    const first = await scanPage(upstream, state, cursor, 2, new CallAllowance(10));
    expect(first.orphans.map((file) => file.id)).toEqual(orphans.slice(0, 2));
    await openai.files.delete(first.end!.id);
    const next = await scanPage(
      upstream,
      state,
      { ...cursor, position: first.end },
      10,
      new CallAllowance(10),
    );
    expect(next.orphans.map((file) => file.id)).toEqual(orphans.slice(2));
  });

  it('rechecks the stores changed since the scan within its allowance, and goes on where it stopped', async () => {
    const { upstream, openai, upload, cursor } = setUp();
    const kept = await upload('kept.txt');
    await openai.vectorStores.create({ name: 'store', file_ids: [kept] });
    const late = [await upload('a.txt'), await upload('b.txt'), await upload('c.txt')];
    const state = new ScanState();
    const page = await scanPage(upstream, state, cursor, 10, new CallAllowance(10));
    expect(page.orphans.map((file) => file.id)).toEqual(late);
    for (const id of late) await openai.vectorStores.create({ name: `late ${id}`, file_ids: [id] });

    // Each recheck lists the stores, then reads as many changed stores as its allowance leaves.
    const rechecks = [];
    for (let n = 0; n < 3; n++) rechecks.push(await recheckStores(upstream, state, new CallAllowance(2)));
    expect(rechecks).toEqual([
      { complete: false, storesRechecked: 1 },
      { complete: false, storesRechecked: 1 },
      { complete: true, storesRechecked: 1 },
    ]);
    expect(late.every((id) => state.attached.has(id))).toBe(true);
    expect(await recheckStores(upstream, state, new CallAllowance(1))).toEqual({
      complete: true,
      storesRechecked: 0,
    });
  });
});
