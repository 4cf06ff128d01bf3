/**
 * Cursor pagination over 250 objects created in bursts within the same second (a fake clock), so
 * most neighbours tie on created_at and only the insertion order separates them; plus one batch of
 * 250 files, which all tie. Every list is checked under both tie rules: 'reverse' (the default:
 * desc is the exact reverse of asc, as in openai-dotnet VectorStoresTests/CanEnumerateVectorStores,
 * FilesTests/ListFiles, VectorStoresTests/CanUseBatchIngestion and
 * CanPaginateGetVectorStoreFilesInBatch) and 'stable' (ties in insertion order under both orders,
 * as CanTestGetVectorStoreFilesInBatchCollectionOptions showed for new batches).
 */

import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator, type TieOrder } from '../../src/emulator/index.ts';
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
const baseURL = `${IN_PROCESS_ORIGIN}/v1`;

/** One emulator filled with the same shape of data; ids are in insertion order per list. */
interface Dataset {
  emulator: Emulator;
  /** The real SDK on the same emulator, for what its auto-pagination does with these cursors. */
  client: OpenAI;
  get(path: string): Promise<{ status: number; body: Page & { error?: { param: string } } }>;
  storeIds: string[];
  fileIds: string[];
  tiedStoreId: string;
  batchStoreId: string;
  batchId: string;
  /** created_at by id, for each list (a file's time in a batch is the batch's, not its upload's). */
  createdAt: Map<string, number>;
  batchCreatedAt: number;
}

/** Burst sizes 1..9, so some seconds hold one object and others up to nine. */
const burstEnds = (index: number): boolean => index % 9 === (index * 7) % 9;

async function build(tieOrder: TieOrder): Promise<Dataset> {
  const clock = new ManualClock();
  const emulator = createEmulator({ clock, tieOrder });
  const fetch = inProcessFetch(emulator.handle);
  const get: Dataset['get'] = async (path) => {
    const response = await fetch(`${baseURL}${path}`, { headers: { authorization: 'Bearer k' } });
    return { status: response.status, body: (await response.json()) as Page & { error?: { param: string } } };
  };
  const post = async (path: string, body: unknown): Promise<{ id: string }> => {
    const response = await fetch(`${baseURL}${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await response.json()) as { id: string };
  };
  const now = () => Math.floor(clock.now() / 1000);

  const storeIds: string[] = [];
  const fileIds: string[] = [];
  const createdAt = new Map<string, number>();
  const burst: string[] = [];
  // This store holds the 250 files; it is the first of the stores walked below.
  const tied = await post('/vector_stores', { name: 'files' });
  storeIds.push(tied.id);
  createdAt.set(tied.id, now());
  for (let i = 0; i < COUNT; i += 1) {
    const store = await post('/vector_stores', { name: `store ${i}` });
    storeIds.push(store.id);
    createdAt.set(store.id, now());

    const form = new FormData();
    form.set('purpose', 'assistants');
    form.set('file', new File([`file ${i}`], `f${i}.txt`));
    const file = (await (
      await fetch(`${baseURL}/files`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: form })
    ).json()) as { id: string };
    fileIds.push(file.id);
    createdAt.set(file.id, now());
    burst.push(file.id);
    if (burstEnds(i) || i === COUNT - 1) {
      // One batch per burst attaches its files in order within the second they were uploaded in.
      await post(`/vector_stores/${tied.id}/file_batches`, { file_ids: burst.splice(0) });
      clock.advance(1000);
    }
  }
  // One batch attaches all 250 files in one second, in file_ids order.
  const batchStore = await post('/vector_stores', { name: 'batch' });
  storeIds.push(batchStore.id);
  createdAt.set(batchStore.id, now());
  const batch = await post(`/vector_stores/${batchStore.id}/file_batches`, { file_ids: fileIds });
  return {
    emulator,
    client: new OpenAI({ apiKey: 'k', baseURL, fetch, maxRetries: 0 }),
    get,
    storeIds,
    fileIds,
    tiedStoreId: tied.id,
    batchStoreId: batchStore.id,
    batchId: batch.id,
    createdAt,
    batchCreatedAt: now(),
  };
}

/**
 * The documented order: created_at per `order`; ties in insertion order, reversed along with
 * everything else under desc when the rule is 'reverse'.
 */
function expectedOrder(
  ids: string[],
  createdAt: (id: string) => number,
  order: 'asc' | 'desc',
  tieOrder: TieOrder,
): string[] {
  const seq = new Map(ids.map((id, index) => [id, index]));
  const sign = order === 'asc' ? 1 : -1;
  return [...ids].sort((a, b) =>
    tieOrder === 'reverse'
      ? (createdAt(a) - createdAt(b) || seq.get(a)! - seq.get(b)!) * sign
      : (createdAt(a) - createdAt(b)) * sign || seq.get(a)! - seq.get(b)!,
  );
}

const datasets = new Map<TieOrder, Dataset>();

beforeAll(async () => {
  const [reverse, stable] = await Promise.all([build('reverse'), build('stable')]);
  datasets.set('reverse', reverse);
  datasets.set('stable', stable);
  return async () => {
    for (const dataset of datasets.values()) await dataset.emulator.close();
  };
});

interface ListCase {
  name: string;
  path: (d: Dataset) => string;
  ids: (d: Dataset) => string[];
  createdAt: (d: Dataset) => (id: string) => number;
  before: boolean;
  missing: string;
}

const byId = (d: Dataset) => (id: string) => d.createdAt.get(id)!;

const lists: ListCase[] = [
  {
    name: 'vector stores',
    path: () => '/vector_stores',
    ids: (d) => d.storeIds,
    createdAt: byId,
    before: true,
    missing: 'vs_missing',
  },
  {
    name: 'vector store files',
    path: (d) => `/vector_stores/${d.tiedStoreId}/files`,
    ids: (d) => d.fileIds,
    createdAt: byId,
    before: true,
    missing: 'file-missing',
  },
  {
    name: 'batch files',
    path: (d) => `/vector_stores/${d.batchStoreId}/file_batches/${d.batchId}/files`,
    ids: (d) => d.fileIds,
    createdAt: (d) => () => d.batchCreatedAt,
    before: true,
    missing: 'file-missing',
  },
  {
    name: 'files',
    path: () => '/files',
    ids: (d) => d.fileIds,
    createdAt: byId,
    before: false,
    missing: 'file-missing',
  },
];

describe.each(['reverse', 'stable'] as const)("tieOrder '%s'", (tieOrder) => {
  // Limit 1 walks every list one request per item; once, under the default rule, is enough.
  const limits = tieOrder === 'reverse' ? [1, 7, 100] : [7, 100];
  const data = () => datasets.get(tieOrder)!;

  describe.each(lists)('pagination of $name', (list) => {
    const expected = (order: 'asc' | 'desc') =>
      expectedOrder(list.ids(data()), list.createdAt(data()), order, tieOrder);

    it('really has same-second ties', () => {
      const ids = list.ids(data());
      const seconds = new Set(ids.map(list.createdAt(data())));
      expect(seconds.size).toBeLessThan(ids.length / 2);
    });

    describe.each(['asc', 'desc'] as const)('order=%s', (order) => {
      it.each(limits)('walks forward with after, limit %i: disjoint and complete', async (limit) => {
        const seen: string[] = [];
        let after: string | null = null;
        for (let pages = 0; pages <= COUNT + 2; pages += 1) {
          const query = `?limit=${limit}&order=${order}${after ? `&after=${after}` : ''}`;
          const { body } = await data().get(`${list.path(data())}${query}`);
          const ids = body.data.map((item) => item.id);
          expect(ids.length).toBeLessThanOrEqual(limit);
          expect(body.first_id).toBe(ids[0] ?? null);
          expect(body.last_id).toBe(ids.at(-1) ?? null);
          seen.push(...ids);
          if (!body.has_more) break;
          after = body.last_id;
        }
        expect(seen).toEqual(expected(order));
        expect(new Set(seen).size).toBe(seen.length);
      });

      it.each(list.before ? limits : [])(
        'walks backward with before, limit %i: each page immediately precedes the cursor',
        async (limit) => {
          const all = expected(order);
          const collected: string[][] = [];
          let before = all.at(-1)!;
          for (let pages = 0; pages <= COUNT + 2; pages += 1) {
            const { body } = await data().get(
              `${list.path(data())}?limit=${limit}&order=${order}&before=${before}`,
            );
            const ids = body.data.map((item) => item.id);
            const end = all.indexOf(before);
            expect(ids).toEqual(all.slice(Math.max(0, end - limit), end));
            expect(body.has_more).toBe(end - limit > 0);
            collected.unshift(ids);
            if (!body.has_more) break;
            before = body.first_id!;
          }
          expect([...collected.flat(), all.at(-1)]).toEqual(all);
        },
      );
    });

    it('lists same-second ties by the tie rule under both orders', async () => {
      const insertion = new Map(list.ids(data()).map((id, index) => [id, index]));
      for (const order of ['asc', 'desc'] as const) {
        const { data: items } = (await data().get(`${list.path(data())}?limit=100&order=${order}`)).body;
        const ties = items.slice(1).filter((item, index) => item.created_at === items[index]!.created_at);
        expect(ties.length).toBeGreaterThan(10);
        // Under 'reverse', desc puts the later-inserted object of a tie first.
        const laterFirst = tieOrder === 'reverse' && order === 'desc';
        items.slice(1).forEach((item, index) => {
          const previous = items[index]!;
          if (item.created_at !== previous.created_at) return;
          const step = insertion.get(item.id)! - insertion.get(previous.id)!;
          expect(laterFirst ? step < 0 : step > 0, `${previous.id} then ${item.id}`).toBe(true);
        });
      }
    });

    it('lists desc as the exact reverse of asc only under the reverse rule', async () => {
      const walk = async (order: 'asc' | 'desc'): Promise<string[]> => {
        const ids: string[] = [];
        let page: Page | null = null;
        while (!page || page.has_more) {
          const cursor: string = page?.last_id ? `&after=${page.last_id}` : '';
          page = (await data().get(`${list.path(data())}?limit=100&order=${order}${cursor}`)).body;
          ids.push(...page.data.map((item) => item.id));
        }
        return ids;
      };
      const asc = await walk('asc');
      const desc = await walk('desc');
      expect(desc.length).toBe(asc.length);
      if (tieOrder === 'reverse') expect(desc).toEqual([...asc].reverse());
      else expect(desc).not.toEqual([...asc].reverse());
    });

    it('answers an unknown cursor with a 404 naming the parameter', async () => {
      const { status, body } = await data().get(`${list.path(data())}?after=${list.missing}`);
      expect(status).toBe(404);
      expect(body.error?.param).toBe('after');
    });
  });

  it('ignores before on GET /files, which does not have it', async () => {
    const { status, body } = await data().get(`/files?limit=3&order=asc&before=${data().fileIds[10]}`);
    expect(status).toBe(200);
    expect(body.data.map((item) => item.id)).toEqual(data().fileIds.slice(0, 3));
  });
});

describe('pagination edge cases', () => {
  const data = () => datasets.get('reverse')!;

  it('gives an empty page with null ids past the end', async () => {
    const last = expectedOrder(data().storeIds, byId(data()), 'asc', 'reverse').at(-1)!;
    const { body } = await data().get(`/vector_stores?order=asc&after=${last}`);
    expect(body).toEqual({ object: 'list', data: [], first_id: null, last_id: null, has_more: false });
  });

  it('uses the cursor within the filtered list of a store', async () => {
    const { body } = await data().get(
      `/vector_stores/${data().tiedStoreId}/files?filter=in_progress&limit=5`,
    );
    expect(body.data).toEqual([]);
    const first = data().fileIds[0]!;
    const filtered = await data().get(
      `/vector_stores/${data().tiedStoreId}/files?filter=failed&after=${first}`,
    );
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

/**
 * `after` and `before` together: no recording has both, but the SDK sends both whenever it
 * auto-paginates a `before` query (it keeps `before` and adds `after` = the last item), and
 * openai-python's tests send both on every list. Both given means the items strictly between.
 */
describe('after and before together', () => {
  const data = () => datasets.get('reverse')!;
  const storesDesc = () => expectedOrder(data().storeIds, byId(data()), 'desc', 'reverse');

  it('ends the SDK auto-pagination of a before query, each item once', async () => {
    const all = storesDesc();
    const before = all[120]!;
    data().emulator.resetStats();
    const seen: string[] = [];
    for await (const store of data().client.vectorStores.list({ before, limit: 2 })) {
      seen.push(store.id);
      expect(seen.length).toBeLessThan(all.length);
    }
    // The before page holds the two items right before the cursor; its has_more (true: more
    // precede them) makes the SDK ask once more, with after = the page's last item.
    expect(seen).toEqual(all.slice(118, 120));
    const statuses = data()
      .emulator.stats()
      .requests.map((request) => request.status);
    expect(statuses).toEqual([200, 200]);
    const second = await data().get(`/vector_stores?limit=2&before=${before}&after=${all[119]}`);
    expect(second.body).toEqual({ object: 'list', data: [], first_id: null, last_id: null, has_more: false });
  });

  it.each([
    ['asc', 1],
    ['asc', 7],
    ['desc', 2],
    ['desc', 100],
  ] as const)(
    'walks every item strictly between the cursors once, order=%s limit %i',
    async (order, limit) => {
      for (const list of lists.filter((candidate) => candidate.before)) {
        const all = expectedOrder(list.ids(data()), list.createdAt(data()), order, 'reverse');
        const [after, before] = [all[30]!, all[75]!];
        const seen: string[] = [];
        let cursor = after;
        for (let pages = 0; pages <= all.length; pages += 1) {
          const { body } = await data().get(
            `${list.path(data())}?limit=${limit}&order=${order}&after=${cursor}&before=${before}`,
          );
          seen.push(...body.data.map((item) => item.id));
          expect(body.data.length).toBeLessThanOrEqual(limit);
          if (!body.has_more) break;
          cursor = body.last_id!;
        }
        expect(seen, list.name).toEqual(all.slice(31, 75));
      }
    },
  );

  it('lets the SDK iterate an explicit after+before range to its end', async () => {
    const all = storesDesc();
    const seen: string[] = [];
    for await (const store of data().client.vectorStores.list({
      after: all[10]!,
      before: all[40]!,
      limit: 4,
    })) {
      seen.push(store.id);
    }
    expect(seen).toEqual(all.slice(11, 40));
  });

  it('gives an empty page when after is not before the other cursor, and 404 for an unknown one', async () => {
    const all = storesDesc();
    for (const [after, before] of [
      [all[50]!, all[50]!],
      [all[60]!, all[50]!],
    ]) {
      const { status, body } = await data().get(`/vector_stores?after=${after}&before=${before}`);
      expect(status).toBe(200);
      expect(body).toEqual({ object: 'list', data: [], first_id: null, last_id: null, has_more: false });
    }
    const unknownBefore = await data().get(`/vector_stores?after=${all[1]}&before=vs_missing`);
    expect(unknownBefore.status).toBe(404);
    expect(unknownBefore.body.error?.param).toBe('before');
    const unknownAfter = await data().get(`/vector_stores?after=vs_missing&before=${all[1]}`);
    expect(unknownAfter.body.error?.param).toBe('after');
  });
});
