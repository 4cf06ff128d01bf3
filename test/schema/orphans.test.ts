import { readFileSync } from 'node:fs';
import { parse, validate } from 'graphql';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapConcurrent } from '../../src/concurrency.ts';
import { estimateUpstreamCalls } from '../../src/schema/cost.ts';
import { ORPHAN_RECHECK_CALLS } from '../../src/schema/files/orphan-recheck.ts';
import { ORPHAN_SCAN_CALLS, orphanScans } from '../../src/schema/files/orphan-scan.ts';
import { encodeGlobalId } from '../../src/schema/ids.ts';
import { schema } from '../../src/schema/index.ts';
import { ManualClock } from '../support/clock.ts';
import { createGateway, type GraphQLResponse, type TestGateway } from '../support/gateway.ts';

const ORPHANS = /* GraphQL */ `
  query ($first: Int, $after: String, $purpose: String, $older: Int) {
    orphanedFiles(first: $first, after: $after, purpose: $purpose, olderThanSeconds: $older) {
      edges { cursor node { openaiId filename } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      scan { storesTotal storesScanned attachedFiles complete cutoff }
    }
  }
`;

const DELETE = /* GraphQL */ `
  mutation ($input: DeleteOrphanedFilesInput!) {
    deleteOrphanedFiles(input: $input) {
      __typename
      ... on MutationError { message }
      ... on InvalidInputError { field }
      ... on DeleteOrphanedFilesPayload {
        dryRun deletedIds wouldDeleteIds keptIds endCursor hasMore
        files { openaiId bytes }
        failures { openaiFileId code message }
        scan { storesScanned storesTotal complete }
        recheck { complete storesRechecked }
      }
    }
  }
`;

interface OrphanPage {
  edges: Array<{ cursor: string; node: { openaiId: string; filename: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string };
  scan: {
    storesTotal: number | null;
    storesScanned: number;
    attachedFiles: number;
    complete: boolean;
    cutoff: string;
  };
}

interface DeletePayload {
  __typename: string;
  message?: string;
  field?: string;
  dryRun: boolean;
  deletedIds: string[];
  wouldDeleteIds: string[];
  keptIds: string[];
  endCursor: string;
  hasMore: boolean;
  files: Array<{ openaiId: string; bytes: number }>;
  failures: Array<{ openaiFileId: string; code: string; message: string }>;
  scan: { storesScanned: number; storesTotal: number | null; complete: boolean };
  recheck: { complete: boolean; storesRechecked: number };
}

type Response<T> = GraphQLResponse<T> & { extensions?: { cost?: { upstreamCalls: number } } };

/** One page: its answer, the upstream calls the emulator saw for it, and the estimate it was shown. */
async function measured<T>(
  gateway: TestGateway,
  query: string,
  variables: Record<string, unknown>,
  headers?: Record<string, string>,
): Promise<{ result: Response<T>; calls: number; estimate: number | undefined }> {
  gateway.resetUpstreamCalls();
  const result = (await gateway.graphql<T>(query, variables, headers)) as Response<T>;
  return { result, calls: gateway.upstreamCalls(), estimate: result.extensions?.cost?.upstreamCalls };
}

const fileGid = (id: string) => encodeGlobalId('File', id);

describe('the orphan finder over 1,000 files, 137 of them attached to no store', () => {
  let gateway: TestGateway;
  /** Old enough for the default `olderThanSeconds`, in the order `GET /files` lists them. */
  let orphans: string[] = [];
  let attached: string[] = [];
  let young: string[] = [];
  let userData: string[] = [];
  /** The calls reading every store's files takes: a listing, then each store's pages. */
  let attachmentCalls = 0;
  const STORES = 20;
  const OTHER_KEY = { 'x-openai-api-key': 'sk-another-project-key' };

  beforeAll(async () => {
    // Uploads a week before the gateway's clock: past any `olderThanSeconds` the tests use.
    const clock = new ManualClock(Date.now() - 7 * 86_400_000);
    gateway = await createGateway({ emulator: { clock }, app: { allowCallerKeys: true } });
    const { openai } = gateway;
    // 137 of 1000 indexes, spread: 7919 is prime to 1000, so this is a permutation.
    const orphanIndexes = new Set(
      Array.from({ length: 1000 }, (_, i) => i).filter((i) => (i * 7919) % 1000 < 137),
    );
    let attachedCount = 0;
    const plan = Array.from({ length: 1000 }, (_, i) => {
      if (orphanIndexes.has(i)) return { i, orphan: true, j: -1 };
      return { i, orphan: false, j: attachedCount++ };
    });
    const ids = await mapConcurrent(plan, 8, async ({ i, orphan, j }) => {
      // Every 25th attached file cannot be indexed: it ends `failed` in its store, still attached.
      const name = !orphan && j % 25 === 0 ? `blob-${i}.xyz` : `doc-${i}.txt`;
      const file = await openai.files.create({
        file: await toFile(Buffer.from(`document ${i} about vector stores`), name),
        purpose: 'assistants',
      });
      return file.id;
    });
    const attachedPlan = plan.filter((entry) => !entry.orphan);
    attached = attachedPlan.map((entry) => ids[entry.i]!);
    // Attached file j goes to stores j, j+7 and j+13 (mod 20); every fifth only to store j.
    const storeFiles: string[][] = Array.from({ length: STORES }, () => []);
    for (const { i, j } of attachedPlan) {
      const stores = j % 5 === 0 ? [j % STORES] : [j % STORES, (j + 7) % STORES, (j + 13) % STORES];
      for (const store of stores) storeFiles[store]!.push(ids[i]!);
    }
    const storeIds: string[] = [];
    for (let store = 0; store < STORES; store++) {
      storeIds.push((await openai.vectorStores.create({ name: `store-${store}` })).id);
    }
    // Store 18's files are cancelled and store 19's stay in progress: both still count as attached.
    for (let store = 0; store < STORES - 2; store++) {
      await openai.vectorStores.fileBatches.create(storeIds[store]!, { file_ids: storeFiles[store]! });
    }
    gateway.emulator.setProcessing({ hold: true });
    const cancelled = await openai.vectorStores.fileBatches.create(storeIds[18]!, {
      file_ids: storeFiles[18]!,
    });
    await openai.vectorStores.fileBatches.cancel(cancelled.id, { vector_store_id: storeIds[18]! });
    await openai.vectorStores.fileBatches.create(storeIds[19]!, { file_ids: storeFiles[19]! });
    attachmentCalls =
      1 + storeFiles.reduce((sum, files) => sum + Math.max(1, Math.ceil(files.length / 100)), 0);

    // Files of another purpose, and files too young to be called orphans: never listed by default.
    for (let k = 0; k < 3; k++) {
      const file = await openai.files.create({
        file: await toFile(Buffer.from(`user data ${k}`), `user-${k}.txt`),
        purpose: 'user_data',
      });
      userData.push(file.id);
    }
    clock.advance(Date.now() - clock.now());
    for (let k = 0; k < 9; k++) {
      const file = await openai.files.create({
        file: await toFile(Buffer.from(`just uploaded ${k}`), `young-${k}.txt`),
        purpose: 'assistants',
      });
      young.push(file.id);
    }

    const listed = await openai.files.list({ purpose: 'assistants', order: 'asc', limit: 10_000 });
    const orphanSet = new Set(plan.filter((entry) => entry.orphan).map((entry) => ids[entry.i]!));
    orphans = listed.data.filter((file) => orphanSet.has(file.id)).map((file) => file.id);
    userData = [...userData];
    young = [...young];
  }, 120_000);
  afterAll(() => gateway.close());

  it('is seeded as described: 137 orphans, failed and cancelled attachments, more stores than one page reads', async () => {
    expect(orphans).toHaveLength(137);
    expect(attached).toHaveLength(863);
    const counts = { failed: 0, cancelled: 0, inProgress: 0 };
    for await (const store of gateway.openai.vectorStores.list({ limit: 100 })) {
      counts.failed += store.file_counts.failed;
      counts.cancelled += store.file_counts.cancelled;
      counts.inProgress += store.file_counts.in_progress;
    }
    expect(counts.failed).toBeGreaterThan(0);
    expect(counts.cancelled).toBeGreaterThan(0);
    expect(counts.inProgress).toBeGreaterThan(0);
    // So the attached set takes more than one page's allowance to read.
    expect(attachmentCalls).toBeGreaterThan(ORPHAN_SCAN_CALLS);
  });

  /** Every page of a scan, each checked against the estimate it was shown. */
  async function walk(
    variables: Record<string, unknown>,
    options: { between?: (pages: readonly OrphanPage[]) => void; headers?: Record<string, string> } = {},
  ): Promise<{ ids: string[]; pages: Array<OrphanPage & { calls: number; estimate: number }> }> {
    const ids: string[] = [];
    const pages: Array<OrphanPage & { calls: number; estimate: number }> = [];
    let after: string | undefined;
    for (let n = 0; n < 20; n++) {
      options.between?.(pages);
      const { result, calls, estimate } = await measured<{ orphanedFiles: OrphanPage }>(
        gateway,
        ORPHANS,
        { ...variables, after },
        options.headers,
      );
      expect(result.errors).toBeUndefined();
      const page = result.data!.orphanedFiles;
      expect(estimate).toBe(ORPHAN_SCAN_CALLS);
      expect(calls).toBeLessThanOrEqual(estimate!);
      pages.push({ ...page, calls, estimate: estimate! });
      ids.push(...page.edges.map((edge) => edge.node.openaiId));
      if (!page.pageInfo.hasNextPage) return { ids, pages };
      after = page.pageInfo.endCursor;
    }
    throw new Error('The scan did not end in 20 pages.');
  }

  it('pages exactly the 137 orphans at first: 100, oldest first, each page within its estimate', async () => {
    const { ids, pages } = await walk({ first: 100 });
    expect(ids).toEqual(orphans);
    expect(new Set(ids).size).toBe(ids.length);
    // Reading every store takes more than one page's allowance: the first page finds none yet.
    expect(pages[0]!.edges).toEqual([]);
    expect(pages[0]!.pageInfo.hasNextPage).toBe(true);
    expect(pages[0]!.scan.storesScanned).toBeGreaterThan(0);
    expect(pages[0]!.scan.storesScanned).toBeLessThan(STORES);
    expect(pages[0]!.scan.storesTotal).toBe(STORES);
    expect(pages[0]!.calls).toBe(ORPHAN_SCAN_CALLS);
    const last = pages.at(-1)!;
    expect(last.scan).toMatchObject({ storesTotal: STORES, storesScanned: STORES, complete: true });
    expect(last.scan.attachedFiles).toBe(863);
    expect(pages.slice(1).every((page) => page.pageInfo.hasPreviousPage)).toBe(true);
    // Every upstream call the scan made, over all its pages: the stores once, and `/files` per page.
    const total = pages.reduce((sum, page) => sum + page.calls, 0);
    expect(total).toBe(attachmentCalls + pages.length - 1);
  });

  it('goes on from any edge cursor, and leaves out files younger than olderThanSeconds or of another purpose', async () => {
    const { pages } = await walk({ first: 60 });
    const withOrphans = pages.find((page) => page.edges.length === 60)!;
    const middle = withOrphans.edges[29]!;
    const { result } = await measured<{ orphanedFiles: OrphanPage }>(gateway, ORPHANS, {
      first: 100,
      after: middle.cursor,
    });
    const rest = result.data!.orphanedFiles.edges.map((edge) => edge.node.openaiId);
    const from = orphans.indexOf(middle.node.openaiId);
    expect(rest).toEqual(orphans.slice(from + 1, from + 101));

    const all = await walk({ first: 100, older: 0 });
    expect(all.ids).toEqual([...orphans, ...young]);
    const others = await walk({ first: 100, purpose: 'user_data' });
    expect(others.ids).toEqual(userData);
  });

  it('resumes a scan whose cached state was dropped, neither repeating nor skipping an orphan', async () => {
    const dropped: number[] = [];
    const { ids, pages } = await walk(
      { first: 50 },
      {
        between: (before) => {
          // Once while the stores are read, and once after the first page of orphans.
          const withOrphans = before.filter((page) => page.edges.length > 0).length;
          if (before.length === 1 || (withOrphans === 1 && before.at(-1)!.edges.length > 0)) {
            orphanScans.clear();
            dropped.push(before.length);
          }
        },
      },
    );
    expect(ids).toEqual(orphans);
    expect(dropped).toHaveLength(2);
    // Each drop made the next page read the stores again from the start, finding no orphan yet.
    for (const page of dropped) expect(pages[page]!.edges).toEqual([]);
  });

  it('refuses a cursor of another credential, or an altered or malformed one, before any upstream call', async () => {
    const first = await measured<{ orphanedFiles: OrphanPage }>(gateway, ORPHANS, { first: 10 });
    const cursor = first.result.data!.orphanedFiles.pageInfo.endCursor;
    const foreign = await measured(gateway, ORPHANS, { first: 10, after: cursor }, OTHER_KEY);
    expect(foreign.result.data).toEqual({ orphanedFiles: null });
    expect(foreign.result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(foreign.result.errors?.[0]?.message).toMatch(/another credential/);
    expect(foreign.calls).toBe(0);

    const [body = '', mac = ''] = cursor.split('.');
    const altered = `${body.slice(0, -2)}${body.at(-2) === 'A' ? 'B' : 'A'}${body.at(-1)}.${mac}`;
    for (const after of [altered, 'nonsense', `${body}.`, 'x'.repeat(5000)]) {
      const { result, calls } = await measured(gateway, ORPHANS, { after });
      expect(result.errors?.[0]?.extensions?.code, after.slice(0, 20)).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toMatch(/`after`/);
      expect(calls).toBe(0);
    }

    // The other credential's own scan is its own, and sees its own project.
    const own = await walk({ first: 100 }, { headers: OTHER_KEY });
    expect(own.ids).toEqual(orphans);
  });

  it('answers bad arguments with errors that name them, before any upstream call', async () => {
    const first = await measured<{ orphanedFiles: OrphanPage }>(gateway, ORPHANS, { first: 5, older: 60 });
    const cursor = first.result.data!.orphanedFiles.pageInfo.endCursor;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ first: 101 }, /`first` must be between 1 and 100, got 101/],
      [{ first: 0 }, /`first` must be between 1 and 100, got 0/],
      [{ purpose: 'Not a purpose!' }, /`purpose` must be an OpenAI file purpose/],
      [{ older: -1 }, /`olderThanSeconds` must be between 0 and/],
      [{ after: cursor }, /continues a scan with `purpose: "assistants"` and `olderThanSeconds: 60`/],
      [{ after: cursor, older: 60, purpose: 'user_data' }, /continues a scan with/],
    ];
    for (const [variables, message] of cases) {
      const { result, calls } = await measured(gateway, ORPHANS, variables);
      expect(result.errors?.[0]?.message).toMatch(message);
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(calls).toBe(0);
    }
    for (const [input, field] of [
      [{ first: 101 }, 'input.first'],
      [{ after: 'nonsense' }, 'input.after'],
      [{ purpose: '' }, 'input.purpose'],
    ] as const) {
      const { result, calls } = await measured<{ deleteOrphanedFiles: DeletePayload }>(gateway, DELETE, {
        input,
      });
      expect(result.data!.deleteOrphanedFiles).toMatchObject({ __typename: 'InvalidInputError', field });
      expect(result.data!.deleteOrphanedFiles.message).toContain(`\`${field}\``);
      expect(calls).toBe(0);
    }
  });

  it('fails a page whose upstream call failed, and the same cursor then goes on where it was', async () => {
    const { result } = await measured<{ orphanedFiles: OrphanPage }>(gateway, ORPHANS, { first: 100 });
    const page = result.data!.orphanedFiles;
    gateway.emulator.setFaults({ routes: { 'GET /v1/files': { errorRate: 1, errorStatus: 500 } } });
    try {
      const failed = await measured(gateway, ORPHANS, { first: 100, after: page.pageInfo.endCursor });
      expect(failed.result.data).toEqual({ orphanedFiles: null });
      expect(failed.result.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    } finally {
      gateway.emulator.setFaults(null);
    }
    const ids = [...page.edges.map((edge) => edge.node.openaiId)];
    let after: string | undefined = page.pageInfo.endCursor;
    while (after) {
      const next = await measured<{ orphanedFiles: OrphanPage }>(gateway, ORPHANS, { first: 100, after });
      const connection: OrphanPage = next.result.data!.orphanedFiles;
      ids.push(...connection.edges.map((edge) => edge.node.openaiId));
      after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : undefined;
    }
    expect(ids).toEqual(orphans);
  });

  async function deleteAll(input: Record<string, unknown>): Promise<DeletePayload[]> {
    const payloads: DeletePayload[] = [];
    let after: string | undefined;
    for (let n = 0; n < 20; n++) {
      const { result, calls, estimate } = await measured<{ deleteOrphanedFiles: DeletePayload }>(
        gateway,
        DELETE,
        { input: { ...input, after } },
      );
      expect(result.errors).toBeUndefined();
      const payload = result.data!.deleteOrphanedFiles;
      expect(payload.__typename).toBe('DeleteOrphanedFilesPayload');
      expect(calls).toBeLessThanOrEqual(estimate!);
      payloads.push(payload);
      if (!payload.hasMore) return payloads;
      after = payload.endCursor;
    }
    throw new Error('The deletion did not end in 20 calls.');
  }

  it('reports the 137 orphans in a dry run, across its pages, and deletes nothing', async () => {
    const before = gateway.emulator.inspect().files;
    const payloads = await deleteAll({ first: 100, dryRun: true });
    expect(payloads.flatMap((payload) => payload.wouldDeleteIds)).toEqual(orphans.map(fileGid));
    expect(payloads.flatMap((payload) => payload.deletedIds)).toEqual([]);
    expect(payloads.every((payload) => payload.dryRun && payload.recheck.complete)).toBe(true);
    expect(gateway.emulator.inspect().files).toBe(before);
  });

  it('deletes exactly those 137, and leaves every attached, young and other file in place', async () => {
    const payloads = await deleteAll({ first: 100 });
    expect(payloads.flatMap((payload) => payload.deletedIds)).toEqual(orphans.map(fileGid));
    expect(payloads.flatMap((payload) => payload.failures)).toEqual([]);
    expect(payloads.flatMap((payload) => payload.keptIds)).toEqual([]);
    expect(payloads.flatMap((payload) => payload.files.map((file) => file.openaiId))).toEqual(orphans);

    const remaining = await gateway.openai.files.list({ limit: 10_000 });
    const remainingIds = new Set(remaining.data.map((file) => file.id));
    expect(remaining.data).toHaveLength(863 + young.length + userData.length);
    for (const id of [...attached, ...young, ...userData]) expect(remainingIds.has(id)).toBe(true);
    const stillAttached = new Set<string>();
    for await (const store of gateway.openai.vectorStores.list({ limit: 100 })) {
      for await (const file of gateway.openai.vectorStores.files.list(store.id, { limit: 100 })) {
        stillAttached.add(file.id);
      }
    }
    expect(attached.every((id) => stillAttached.has(id))).toBe(true);

    // Nothing is left to find.
    const again = await walk({ first: 100 });
    expect(again.ids).toEqual([]);
  });
});

describe('deleteOrphanedFiles before it deletes', () => {
  let gateway: TestGateway;
  let storeId = '';
  /** The five orphans, oldest first. */
  let orphans: string[] = [];

  beforeAll(async () => {
    gateway = await createGateway({ emulator: { clock: new ManualClock(Date.now() - 86_400_000) } });
    const upload = async (name: string) =>
      (
        await gateway.openai.files.create({
          file: await toFile(Buffer.from(name), name),
          purpose: 'assistants',
        })
      ).id;
    const kept = [await upload('kept-0.txt'), await upload('kept-1.txt'), await upload('kept-2.txt')];
    for (let k = 0; k < 5; k++) orphans.push(await upload(`orphan-${k}.txt`));
    storeId = (await gateway.openai.vectorStores.create({ name: 'kept', file_ids: kept })).id;
    orphans = [...orphans];
  });
  afterAll(() => gateway.close());

  async function remove(input: Record<string, unknown>) {
    const { result, calls, estimate } = await measured<{ deleteOrphanedFiles: DeletePayload }>(
      gateway,
      DELETE,
      { input },
    );
    expect(result.errors).toBeUndefined();
    expect(calls).toBeLessThanOrEqual(estimate!);
    return { payload: result.data!.deleteOrphanedFiles, calls, estimate: estimate! };
  }

  it('keeps an orphan attached to a store, old or new, after the scan read the stores', async () => {
    const first = await remove({ first: 1 });
    expect(first.payload.deletedIds).toEqual([fileGid(orphans[0]!)]);
    expect(first.estimate).toBe(ORPHAN_SCAN_CALLS + ORPHAN_RECHECK_CALLS + 1);

    // Attached to a store the scan read, then to one created since: the scan's set knows neither.
    await gateway.openai.vectorStores.files.create(storeId, { file_id: orphans[1]! });
    const second = await remove({ first: 2, after: first.payload.endCursor });
    expect(second.payload).toMatchObject({
      keptIds: [fileGid(orphans[1]!)],
      deletedIds: [fileGid(orphans[2]!)],
      recheck: { complete: true, storesRechecked: 1 },
    });
    await gateway.openai.vectorStores.create({ name: 'new', file_ids: [orphans[3]!] });
    const third = await remove({ first: 2, after: second.payload.endCursor });
    expect(third.payload).toMatchObject({
      keptIds: [fileGid(orphans[3]!)],
      deletedIds: [fileGid(orphans[4]!)],
      hasMore: false,
      recheck: { complete: true, storesRechecked: 1 },
    });
    const left = (await gateway.openai.files.list()).data.map((file) => file.id);
    expect(left).toContain(orphans[1]);
    expect(left).toContain(orphans[3]);
    expect(left).not.toContain(orphans[2]);
  });
});

describe('the price of the orphan finder', () => {
  const cost = (query: string, variables?: Record<string, unknown>, operationName?: string) =>
    estimateUpstreamCalls({ schema, document: parse(query), variables, operationName });

  it('prices the README examples, which hold to the schema', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const examples = readme
      .split('```graphql')
      .map((block) => block.split('```')[0]!)
      .find((block) => block.includes('orphanedFiles'))!;
    expect(validate(schema, parse(examples))).toEqual([]);
    expect(cost(examples, {}, 'Orphans')).toBe(ORPHAN_SCAN_CALLS);
    expect(cost(examples, {}, 'DeleteOrphans')).toBe(ORPHAN_SCAN_CALLS + ORPHAN_RECHECK_CALLS);
  });

  it('is the scan allowance per page, whatever its size and the file fields it selects', () => {
    expect(cost('{ orphanedFiles { nodes { id } } }')).toBe(ORPHAN_SCAN_CALLS);
    expect(
      cost('{ orphanedFiles(first: 100) { edges { node { filename bytes createdAt } } scan { complete } } }'),
    ).toBe(ORPHAN_SCAN_CALLS);
    expect(cost('{ a: orphanedFiles { __typename } b: orphanedFiles { __typename } }')).toBe(
      2 * ORPHAN_SCAN_CALLS,
    );
  });

  it('is the scan, the recheck and one delete per orphan asked for (none in a dry run)', () => {
    const query =
      'mutation ($input: DeleteOrphanedFilesInput!) { deleteOrphanedFiles(input: $input) { __typename } }';
    const base = ORPHAN_SCAN_CALLS + ORPHAN_RECHECK_CALLS;
    expect(cost(query, { input: {} })).toBe(base + 20);
    expect(cost(query, { input: { first: 100 } })).toBe(base + 100);
    expect(cost(query, { input: { first: 100, dryRun: true } })).toBe(base);
    // Refused by the resolver before any call; priced as the largest page it accepts.
    expect(cost(query, { input: { first: 1000 } })).toBe(base + 100);
    // Within the default operation limit even at its largest.
    expect(base + 100).toBeLessThanOrEqual(150);
  });
});
