import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  INSTALL_TIMEOUT_MS,
  installExample,
  releaseProcessingOnceWatched,
  runExample,
  summaryOf,
} from './support.ts';

/**
 * examples/apollo run as a user would run it (its own install, its own Node process) against a
 * gateway with a token: Apollo Client 4 paging 25 stores into one cached list, uploading
 * `File`s through apollo-upload-client, and watching the upload's batch to its end. Its strict
 * type-check is CI's `npm run typecheck:examples`, once rather than per Node.
 */

const TOKEN = 'example-frontend-token-0123456789';
const STORES = 25;
/** How long the emulator holds each search: the deferred part arrives at least this much later. */
const SEARCH_LATENCY_MS = 800;

interface Summary {
  stores: { pages: number; count: number; unique: number; cachedStores: number; renamed: string | null };
  upload: {
    typename: string;
    vectorStoreId: string;
    batchId: string;
    files: Array<{ filename: string; bytes: number }>;
    refused: { typename: string; message: string };
  };
  subscriptions: Record<string, string[]>;
  search: Array<{ at: number; dataState: string; name: string | null; search: string[] | null }>;
  warnings: string[];
}

let dir: string;
let gateway: TestGateway;
beforeAll(async () => {
  dir = await installExample('apollo');
  // The emulator's files finish processing by a real clock, while the subscriptions watch.
  gateway = await startGateway({
    emulator: { clock: { now: () => Date.now() } },
    app: { tokens: [{ name: 'frontend', secret: TOKEN, credentials: ['default'] }] },
  });
  gateway.emulator.setProcessing({ hold: true });
  gateway.emulator.setFaults({
    routes: { 'POST /v1/vector_stores/{vector_store_id}/search': { latencyMs: SEARCH_LATENCY_MS } },
  });
  for (let index = 0; index < STORES; index++) {
    await gateway.openai.vectorStores.create({ name: `store ${index}` });
  }
}, INSTALL_TIMEOUT_MS);
afterAll(() => gateway?.close());

describe('examples/apollo', () => {
  it('pages, uploads, watches the upload to its end, and renders a deferred search', async () => {
    const transports = ['websocket', 'sse'];
    const [ran] = await Promise.all([
      runExample(dir, 'src/tour.ts', {
        GATEWAY_URL: gateway.url,
        GATEWAY_TOKEN: TOKEN,
        GATEWAY_CREDENTIAL: 'default',
        SUBSCRIPTIONS: transports.join(','),
      }),
      // Both transports subscribe in the same tick; a second is plenty for the later to join.
      releaseProcessingOnceWatched(
        gateway,
        'GET /v1/vector_stores/{vector_store_id}/file_batches/{batch_id}',
        1000,
      ),
    ]);
    const summary = summaryOf<Summary>(ran);
    expect(ran.code, ran.stderr).toBe(0);

    // Three pages (10, 10, 5) accumulated into one list, each store cached once by its id.
    expect(summary.stores).toMatchObject({ pages: 3, count: STORES, unique: STORES, cachedStores: STORES });
    const stored = await gateway.openai.vectorStores.list({ limit: 100 });
    expect(stored.data.map((store) => store.name)).toContain(summary.stores.renamed);

    expect(summary.upload.typename).toBe('UploadFilesPayload');
    expect(summary.upload.files).toEqual([
      { filename: 'refunds.txt', bytes: 47 },
      { filename: 'shipping.md', bytes: 49 },
    ]);
    expect(summary.upload.refused.typename).toBe('NotFoundError');
    const files = await gateway.openai.vectorStores.files.list(
      (await gateway.openai.vectorStores.list({ limit: 1 })).data[0]!.id,
    );
    expect(files.data).toHaveLength(2);

    // Each transport saw the batch in progress, then completed, then the end of the stream.
    expect(Object.keys(summary.subscriptions).sort()).toEqual([...transports].sort());
    for (const statuses of Object.values(summary.subscriptions)) {
      expect(statuses[0]).toMatch(/^IN_PROGRESS /);
      expect(statuses.at(-1)).toBe('COMPLETED 2/2');
    }
    // The deferred search: Apollo gives the store first, without the search, then the whole
    // answer once the slow search has arrived, on the one request.
    expect(summary.search.map(({ at: _, ...render }) => render)).toEqual([
      { dataState: 'streaming', name: 'Apollo recipe', search: null },
      { dataState: 'complete', name: 'Apollo recipe', search: ['refunds.txt'] },
    ]);
    const [first, second] = summary.search;
    expect(second!.at - first!.at).toBeGreaterThan(SEARCH_LATENCY_MS * 0.8);
    // possibleTypes and the FileCounts policy leave Apollo nothing to warn about.
    expect(summary.warnings).toEqual([]);
  });
});
