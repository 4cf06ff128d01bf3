import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type TestGateway, uploadTextFiles } from '../support/gateway.ts';

interface PageData {
  vectorStore: {
    files: {
      edges: Array<{ cursor: string; node: { openaiId: string } }>;
      pageInfo: {
        hasNextPage: boolean;
        hasPreviousPage: boolean;
        startCursor: string | null;
        endCursor: string | null;
      };
    };
  };
}

const PAGE = /* GraphQL */ `
  query ($store: ID!, $first: Int, $after: String, $last: Int, $before: String, $order: SortOrder) {
    vectorStore(id: $store) {
      files(first: $first, after: $after, last: $last, before: $before, order: $order) {
        edges { cursor node { openaiId } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
`;

/**
 * Under the rule the recordings show (`desc` the exact reverse of `asc`, same-second items
 * included) and under the other one an upstream could follow (ties in insertion order both ways):
 * the walks must give the emulator's own order either way.
 */
describe.each(['reverse', 'stable'] as const)('connections over OpenAI cursors, %s tie order', (tieOrder) => {
  let gateway: TestGateway;
  /** Stores whose files were attached in runs of the same second, the case a flipped order gets wrong. */
  const stores: Record<'mixed' | 'oneSecond', string> = { mixed: '', oneSecond: '' };

  beforeAll(async () => {
    gateway = await createGateway({ emulator: { tieOrder } });
    const fileIds = await uploadTextFiles(gateway.openai, 150);
    const mixed = await gateway.openai.vectorStores.create({ name: 'mixed seconds' });
    for (const [start, end] of [
      [0, 60],
      [60, 61],
      [61, 110],
      [110, 150],
    ] as const) {
      await gateway.openai.vectorStores.fileBatches.create(mixed.id, { file_ids: fileIds.slice(start, end) });
      gateway.clock.advance(1000);
    }
    const oneSecond = await gateway.openai.vectorStores.create({ name: 'one second' });
    await gateway.openai.vectorStores.fileBatches.create(oneSecond.id, { file_ids: fileIds });
    stores.mixed = mixed.id;
    stores.oneSecond = oneSecond.id;
  });
  afterAll(() => gateway.close());

  async function upstreamOrder(storeId: string, order: 'asc' | 'desc'): Promise<string[]> {
    const ids: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await gateway.openai.vectorStores.files.list(storeId, { limit: 100, order, after });
      ids.push(...page.data.map((file) => file.id));
      if (!page.has_more) return ids;
      after = page.data.at(-1)!.id;
    }
  }

  async function page(storeId: string, variables: Record<string, unknown>) {
    const result = await gateway.graphql<PageData>(PAGE, { store: storeId, ...variables });
    expect(result.errors).toBeUndefined();
    return result.data!.vectorStore.files;
  }

  for (const storeKind of ['mixed', 'oneSecond'] as const) {
    for (const order of ['DESC', 'ASC'] as const) {
      for (const size of [1, 7, 100]) {
        it(`walks ${storeKind} forwards with first: ${size}, order ${order}, as OpenAI lists it`, async () => {
          const expected = await upstreamOrder(stores[storeKind], order === 'ASC' ? 'asc' : 'desc');
          const seen: string[] = [];
          let after: string | null = null;
          for (let pageNumber = 0; ; pageNumber++) {
            const files = await page(stores[storeKind], { first: size, after, order });
            seen.push(...files.edges.map((edge) => edge.node.openaiId));
            expect(files.pageInfo.hasPreviousPage).toBe(pageNumber > 0);
            expect(files.pageInfo.startCursor).toBe(files.edges[0]?.cursor ?? null);
            expect(files.pageInfo.endCursor).toBe(files.edges.at(-1)?.cursor ?? null);
            if (!files.pageInfo.hasNextPage) break;
            after = files.pageInfo.endCursor;
          }
          expect(seen).toEqual(expected);
        });

        it(`walks ${storeKind} backwards with last: ${size}, order ${order}, as OpenAI lists it`, async () => {
          const expected = await upstreamOrder(stores[storeKind], order === 'ASC' ? 'asc' : 'desc');
          let seen: string[] = [];
          let before: string | null = null;
          for (let pageNumber = 0; ; pageNumber++) {
            gateway.resetUpstreamCalls();
            const files = await page(stores[storeKind], { last: size, before, order });
            // The store, and the page: 1 call with a cursor, 3 at most for the end of the list.
            expect(gateway.upstreamCalls()).toBeLessThanOrEqual(1 + (before === null ? 3 : 1));
            seen = [...files.edges.map((edge) => edge.node.openaiId), ...seen];
            expect(files.pageInfo.hasNextPage).toBe(pageNumber > 0);
            expect(files.edges.length).toBe(
              Math.min(size, expected.length - (seen.length - files.edges.length)),
            );
            if (!files.pageInfo.hasPreviousPage) break;
            before = files.pageInfo.startCursor;
          }
          expect(seen).toEqual(expected);
        });
      }
    }
  }

  it('rejects page sizes out of range and mixed directions with clear errors, before any upstream call', async () => {
    gateway.resetUpstreamCalls();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ first: 0 }, /`first` must be between 1 and 100, got 0/],
      [{ first: 101 }, /`first` must be between 1 and 100, got 101/],
      [{ last: -1 }, /`last` must be between 1 and 100, got -1/],
      [{ first: 1, last: 1 }, /either `first` or `last`/],
      [{ first: 1, before: 'file-abc' }, /use it with `last`/],
    ];
    for (const [variables, message] of cases) {
      const result = await gateway.graphql(PAGE, { store: stores.mixed, ...variables });
      expect(result.errors?.[0]?.message).toMatch(message);
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    // Only the store lookups, never a file list.
    expect(gateway.emulator.stats().byRoute['GET /v1/vector_stores/{vector_store_id}/files']).toBeUndefined();
  });

  it('reports a cursor that names no item of the list as bad input', async () => {
    const result = await gateway.graphql(PAGE, {
      store: stores.mixed,
      first: 5,
      after: 'file-DoesNotExist000000000',
    });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(/not an item of this list/);
  });

  it('pages through stores forwards and backwards too', async () => {
    const all = await gateway.graphql<{ vectorStores: { nodes: Array<{ openaiId: string }> } }>(
      '{ vectorStores(first: 100) { nodes { openaiId } } }',
    );
    const expected = all.data!.vectorStores.nodes.map((node) => node.openaiId);
    const tail = await gateway.graphql<{
      vectorStores: { nodes: Array<{ openaiId: string }>; pageInfo: { hasNextPage: boolean } };
    }>('{ vectorStores(last: 1) { nodes { openaiId } pageInfo { hasNextPage } } }');
    expect(tail.data!.vectorStores.nodes.map((node) => node.openaiId)).toEqual(expected.slice(-1));
    expect(tail.data!.vectorStores.pageInfo.hasNextPage).toBe(false);
  });
});
