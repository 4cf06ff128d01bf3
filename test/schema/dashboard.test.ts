import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DASHBOARD } from '../support/dashboard.ts';
import { createGateway, seedStore, type TestGateway } from '../support/gateway.ts';

interface DashboardData {
  vectorStores: {
    edges: Array<{
      node: {
        name: string;
        fileCounts: { total: number; completed: number };
        files: {
          totalCount: number;
          edges: Array<{ node: { status: string; file: { filename: string; bytes: number } } }>;
        };
      };
    }>;
  };
}

describe('the dashboard query', () => {
  let gateway: TestGateway;
  beforeEach(async () => {
    gateway = await createGateway();
  });
  afterEach(() => gateway.close());

  it('shows 20 stores with 10 files each and their file details in at most 1 + 20 + 2 upstream calls', async () => {
    for (let store = 0; store < 20; store++) {
      await seedStore(gateway.openai, { name: `store-${store}`, files: 10 });
      gateway.clock.advance(1000);
    }
    gateway.resetUpstreamCalls();
    // Its 20 concurrent file pages share the request's abort signal: no leak warning for that.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);

    const result = await gateway.graphql<DashboardData>(DASHBOARD);

    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings).toEqual([]);
    expect(result.errors).toBeUndefined();
    const stores = result.data!.vectorStores.edges.map((edge) => edge.node);
    expect(stores.map((store) => store.name)).toEqual(
      Array.from({ length: 20 }, (_, i) => `store-${19 - i}`),
    );
    for (const store of stores) {
      expect(store.fileCounts).toEqual({ total: 10, completed: 10 });
      expect(store.files.totalCount).toBe(10);
      expect(store.files.edges).toHaveLength(10);
      const prefix = store.name;
      for (const { node } of store.files.edges) {
        expect(node.status).toBe('COMPLETED');
        expect(node.file.filename).toMatch(new RegExp(`^${prefix}-\\d\\.txt$`));
        expect(node.file.bytes).toBeGreaterThan(0);
      }
    }
    const stats = gateway.emulator.stats();
    expect(stats.total).toBeLessThanOrEqual(23);
    expect(stats.byRoute).toMatchObject({
      'GET /v1/vector_stores': 1,
      'GET /v1/vector_stores/{vector_store_id}/files': 20,
      'GET /v1/files': 1,
    });
  });

  it("keeps every other store when one store's file page fails, and nulls only that page", async () => {
    const storeIds: string[] = [];
    for (let store = 0; store < 3; store++) {
      storeIds.push((await seedStore(gateway.openai, { name: `store-${store}`, files: 2 })).storeId);
      gateway.clock.advance(1000);
    }
    const failing = storeIds[1]!;
    gateway.emulator.setFaults({
      paths: { [`GET /v1/vector_stores/${failing}/files`]: { errorRate: 1, errorStatus: 503 } },
    });

    const result = await gateway.graphql<DashboardData>(DASHBOARD);

    const stores = result.data!.vectorStores.edges.map((edge) => edge.node);
    expect(stores.map((store) => store.name)).toEqual(['store-2', 'store-1', 'store-0']);
    expect(stores[1]!.files).toBeNull();
    for (const store of [stores[0]!, stores[2]!]) {
      expect(store.files.edges.map(({ node }) => node.file.filename).sort()).toEqual([
        `${store.name}-0.txt`,
        `${store.name}-1.txt`,
      ]);
    }
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]).toMatchObject({
      path: ['vectorStores', 'edges', 1, 'node', 'files'],
      extensions: { code: 'UPSTREAM_UNAVAILABLE', upstreamStatus: 503 },
    });
  });

  it('costs one call however often the same object is asked for in one request', async () => {
    const { storeId } = await seedStore(gateway.openai, { files: 2 });
    gateway.resetUpstreamCalls();
    const aliases = Array.from(
      { length: 15 },
      (_, i) => `s${i}: vectorStore(id: "${storeId}") { name }`,
    ).join('\n');
    const result = await gateway.graphql(`{ ${aliases} }`);
    expect(result.errors).toBeUndefined();
    expect(gateway.upstreamCalls()).toBe(1);
  });
});
