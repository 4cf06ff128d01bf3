import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedStore, startGateway, type TestGateway } from '../support/gateway.ts';
import {
  INSTALL_TIMEOUT_MS,
  installExample,
  releaseProcessingOnceWatched,
  runExample,
  runNode,
  summaryOf,
} from './support.ts';

/**
 * examples/relay as a user would run it: relay-compiler's native binary holds the committed
 * artifacts to the gateway's schema.graphql, and the compiled documents page 25 stores into one
 * `@connection` and watch a store over SSE with a Relay Environment.
 */

const TOKEN = 'example-relay-token-0123456789';
const STORES = 25;

interface Summary {
  stores: { pages: number; count: number; unique: number; records: number; renamed: string | null };
  watched: string[] | null;
}

let dir: string;
let gateway: TestGateway;
let watchedStore: string;
beforeAll(async () => {
  dir = await installExample('relay');
  gateway = await startGateway({
    emulator: { clock: { now: () => Date.now() } },
    app: { tokens: [{ name: 'frontend', secret: TOKEN, credentials: ['default'] }] },
  });
  for (let index = 0; index < STORES - 1; index++) {
    await gateway.openai.vectorStores.create({ name: `store ${index}` });
  }
  gateway.emulator.setProcessing({ hold: true });
  watchedStore = (await seedStore(gateway.openai, { name: 'watched', files: 3 })).storeId;
}, INSTALL_TIMEOUT_MS);
afterAll(() => gateway?.close());

describe('examples/relay', () => {
  // Its strict type-check is CI's `npm run typecheck:examples`, once rather than per Node.
  it('has the artifacts relay-compiler writes from schema.graphql', async () => {
    const validated = await runNode(dir, ['node_modules/relay-compiler/cli.js', '--validate']);
    expect(validated.code, validated.stdout + validated.stderr).toBe(0);
  });

  it('pages 25 stores into one connection and watches a store to its end', async () => {
    const [ran] = await Promise.all([
      runExample(dir, 'src/tour.ts', {
        GATEWAY_URL: gateway.url,
        GATEWAY_TOKEN: TOKEN,
        GATEWAY_CREDENTIAL: 'default',
        WATCH_STORE: watchedStore,
      }),
      releaseProcessingOnceWatched(gateway, 'GET /v1/vector_stores/{vector_store_id}', 0),
    ]);
    const summary = summaryOf<Summary>(ran);
    expect(ran.code, ran.stderr).toBe(0);
    expect(summary.stores).toMatchObject({ pages: 3, count: STORES, unique: STORES, records: STORES });
    const stored = await gateway.openai.vectorStores.list({ limit: 100 });
    expect(stored.data.map((store) => store.name)).toContain(summary.stores.renamed);
    expect(summary.watched?.[0]).toMatch(/^IN_PROGRESS /);
    expect(summary.watched?.at(-1)).toBe('COMPLETED 3/3');
  });

  it('runs by persisted id alone on a gateway whose trusted documents are its persisted-queries.json', async () => {
    const manifest = JSON.parse(readFileSync(`${dir}/persisted-queries.json`, 'utf8')) as Record<
      string,
      string
    >;
    const trusted = await startGateway({ app: { trustedDocuments: manifest } });
    try {
      for (let index = 0; index < 3; index++) await trusted.openai.vectorStores.create({ name: `t${index}` });
      const ran = await runExample(dir, 'src/tour.ts', { GATEWAY_URL: trusted.url, PERSISTED: '1' });
      expect(ran.code, ran.stderr).toBe(0);
      expect(summaryOf<Summary>(ran).stores).toMatchObject({ pages: 1, count: 3, unique: 3 });
      // The same documents as text are refused there: only ids run.
      const refused = await runExample(dir, 'src/tour.ts', { GATEWAY_URL: trusted.url });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('trusted documents only');
    } finally {
      await trusted.close();
    }
  });
});
