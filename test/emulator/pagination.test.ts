/**
 * Cursor pagination over 250 objects created in bursts within the same second (a fake clock), so
 * most neighbours tie on created_at and only the insertion order separates them.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { ManualClock } from '../support/clock.ts';
import { IN_PROCESS_ORIGIN, inProcessFetch } from '../support/in-process.ts';

interface Page {
  object: string;
  data: Array<{ id: string; created_at: number }>;
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

const COUNT = 250;
let emulator: Emulator;
const baseURL = `${IN_PROCESS_ORIGIN}/v1`;
let fetch: typeof globalThis.fetch;
const storeIds: string[] = [];
const fileIds: string[] = [];
let tiedStoreId: string;

async function get(path: string): Promise<{ status: number; body: Page & { error?: { param: string } } }> {
  const response = await fetch(`${baseURL}${path}`, { headers: { authorization: 'Bearer k' } });
  return { status: response.status, body: (await response.json()) as Page & { error?: { param: string } } };
}

async function post(path: string, body: unknown, init: RequestInit = {}): Promise<{ id: string }> {
  const response = await fetch(`${baseURL}${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...init,
  });
  return (await response.json()) as { id: string };
}

/** Burst sizes 1..9, so some seconds hold one object and others up to nine. */
const burstEnds = (index: number): boolean => index % 9 === (index * 7) % 9;

/** The documented order: created_at per `order`, ties always in insertion order. */
function expectedOrder(ids: string[], createdAt: Map<string, number>, order: 'asc' | 'desc'): string[] {
  const seq = new Map(ids.map((id, index) => [id, index]));
  const sign = order === 'asc' ? 1 : -1;
  return [...ids].sort((a, b) => (createdAt.get(a)! - createdAt.get(b)!) * sign || seq.get(a)! - seq.get(b)!);
}

const createdAt = new Map<string, number>();

beforeAll(async () => {
  const clock = new ManualClock();
  emulator = createEmulator({ clock });
  fetch = inProcessFetch(emulator.handle);
  // This store holds the 250 files; it is the first of the stores walked below (251 in all).
  const tied = await post('/vector_stores', { name: 'files' });
  tiedStoreId = tied.id;
  storeIds.push(tied.id);
  createdAt.set(tied.id, Math.floor(clock.now() / 1000));
  for (let i = 0; i < COUNT; i += 1) {
    const store = await post('/vector_stores', { name: `store ${i}` });
    storeIds.push(store.id);
    createdAt.set(store.id, Math.floor(clock.now() / 1000));

    const form = new FormData();
    form.set('purpose', 'assistants');
    form.set('file', new File([`file ${i}`], `f${i}.txt`));
    const file = (await (
      await fetch(`${baseURL}/files`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: form })
    ).json()) as { id: string };
    fileIds.push(file.id);
    createdAt.set(file.id, Math.floor(clock.now() / 1000));
    await post(`/vector_stores/${tied.id}/files`, { file_id: file.id });
    if (burstEnds(i)) clock.advance(1000);
  }
  return () => emulator.close();
});

const lists = [
  {
    name: 'vector stores',
    path: () => '/vector_stores',
    ids: () => storeIds,
    before: true,
    missing: 'vs_missing',
  },
  {
    name: 'vector store files',
    path: () => `/vector_stores/${tiedStoreId}/files`,
    ids: () => fileIds,
    before: true,
    missing: 'file-missing',
  },
  { name: 'files', path: () => '/files', ids: () => fileIds, before: false, missing: 'file-missing' },
];

describe.each(lists)('pagination of $name', (list) => {
  it('really has same-second ties', () => {
    const seconds = new Set(list.ids().map((id) => createdAt.get(id)));
    expect(seconds.size).toBeGreaterThan(10);
    expect(seconds.size).toBeLessThan(list.ids().length / 2);
  });

  describe.each(['asc', 'desc'] as const)('order=%s', (order) => {
    it.each([1, 7, 100])('walks forward with after, limit %i: disjoint and complete', async (limit) => {
      const expected = expectedOrder(list.ids(), createdAt, order);
      const seen: string[] = [];
      let after: string | null = null;
      for (let pages = 0; pages <= COUNT; pages += 1) {
        const query = `?limit=${limit}&order=${order}${after ? `&after=${after}` : ''}`;
        const { body } = await get(`${list.path()}${query}`);
        const ids = body.data.map((item) => item.id);
        expect(ids.length).toBeLessThanOrEqual(limit);
        expect(body.first_id).toBe(ids[0] ?? null);
        expect(body.last_id).toBe(ids.at(-1) ?? null);
        seen.push(...ids);
        if (!body.has_more) break;
        after = body.last_id;
      }
      expect(seen).toEqual(expected);
      expect(new Set(seen).size).toBe(expected.length);
    });

    it.each(list.before ? [1, 7, 100] : [])(
      'walks backward with before, limit %i: each page immediately precedes the cursor',
      async (limit) => {
        const expected = expectedOrder(list.ids(), createdAt, order);
        const collected: string[][] = [];
        let before = expected.at(-1)!;
        for (let pages = 0; pages <= COUNT; pages += 1) {
          const { body } = await get(`${list.path()}?limit=${limit}&order=${order}&before=${before}`);
          const ids = body.data.map((item) => item.id);
          const end = expected.indexOf(before);
          expect(ids).toEqual(expected.slice(Math.max(0, end - limit), end));
          expect(body.has_more).toBe(end - limit > 0);
          collected.unshift(ids);
          if (!body.has_more) break;
          before = body.first_id!;
        }
        expect([...collected.flat(), expected.at(-1)]).toEqual(expected);
      },
    );
  });

  if (!list.before) {
    it('ignores before, which GET /files does not have', async () => {
      const { status, body } = await get(`${list.path()}?limit=3&order=asc&before=${list.ids()[10]}`);
      expect(status).toBe(200);
      expect(body.data.map((item) => item.id)).toEqual(list.ids().slice(0, 3));
    });
  }

  it.each(['asc', 'desc'])('keeps same-second ties in insertion order for order=%s', async (order) => {
    const insertion = new Map(list.ids().map((id, index) => [id, index]));
    const { data } = (await get(`${list.path()}?limit=100&order=${order}`)).body;
    const ties = data.slice(1).filter((item, index) => item.created_at === data[index]!.created_at);
    expect(ties.length).toBeGreaterThan(10);
    data.slice(1).forEach((item, index) => {
      const previous = data[index]!;
      if (item.created_at === previous.created_at) {
        expect(insertion.get(item.id)!).toBeGreaterThan(insertion.get(previous.id)!);
      }
    });
  });

  it('answers an unknown cursor with a 404 naming the parameter', async () => {
    const { status, body } = await get(`${list.path()}?after=${list.missing}`);
    expect(status).toBe(404);
    expect(body.error?.param).toBe('after');
  });
});

describe('pagination edge cases', () => {
  it('gives an empty page with null ids past the end', async () => {
    const last = expectedOrder(storeIds, createdAt, 'asc').at(-1)!;
    const { body } = await get(`/vector_stores?order=asc&after=${last}`);
    expect(body).toEqual({ object: 'list', data: [], first_id: null, last_id: null, has_more: false });
  });

  it('uses the cursor within the filtered list of a store', async () => {
    const { body } = await get(`/vector_stores/${tiedStoreId}/files?filter=in_progress&limit=5`);
    expect(body.data).toEqual([]);
    const first = fileIds[0]!;
    const filtered = await get(`/vector_stores/${tiedStoreId}/files?filter=failed&after=${first}`);
    expect(filtered.status).toBe(404);
  });

  it("returns an empty page for an unknown cursor with unknownCursor: 'empty'", async () => {
    const lenient = createEmulator({ unknownCursor: 'empty' });
    try {
      const response = await inProcessFetch(lenient.handle)(`${baseURL}/vector_stores?after=vs_missing`, {
        headers: { authorization: 'Bearer k' },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        object: 'list',
        data: [],
        first_id: null,
        last_id: null,
        has_more: false,
      });
    } finally {
      await lenient.close();
    }
  });
});
