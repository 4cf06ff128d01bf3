import { afterEach, describe, expect, it } from 'vitest';
import { createGateway, type TestGateway } from '../support/gateway.ts';

let gateway: TestGateway;
afterEach(() => gateway.close());

const DOCS: Array<[string, string, Record<string, string | number>]> = [
  ['refunds-en-2025.txt', 'Refunds are paid within 30 days of a return.', { lang: 'en', year: 2025 }],
  ['refunds-en-2023.txt', 'Refunds took 60 days in 2023.', { lang: 'en', year: 2023 }],
  ['refunds-de-2025.txt', 'Rückerstattungen: Refunds in 30 Tagen.', { lang: 'de', year: 2025 }],
  ['shipping-en-2025.txt', 'Shipping takes five days; refunds are separate.', { lang: 'en', year: 2025 }],
];

/** A store of four files, each with its own attributes. */
async function seed(): Promise<string> {
  const store = await gateway.openai.vectorStores.create({ name: 'policies' });
  for (const [name, text, attributes] of DOCS) {
    const file = await gateway.openai.files.create({ file: new File([text], name), purpose: 'assistants' });
    await gateway.openai.vectorStores.files.create(store.id, { file_id: file.id, attributes });
  }
  return store.id;
}

const SEARCH = /* GraphQL */ `
  query ($store: ID!, $where: SearchFilterInput, $filters: JSONObject, $ranking: RankingOptionsInput, $queries: [String!]) {
    vectorStore(id: $store) {
      searchPage(query: "refunds", queries: $queries, where: $where, filters: $filters, rankingOptions: $ranking) {
        searchQuery
        hasMore
        results { filename score attributes }
      }
    }
  }
`;

interface SearchData {
  vectorStore: {
    searchPage: {
      searchQuery: string[];
      hasMore: boolean;
      results: Array<{ filename: string; score: number; attributes: Record<string, unknown> }>;
    };
  };
}

describe('search', () => {
  it('sends a typed filter exactly as the same filter sent through the SDK, and gets the same hits', async () => {
    gateway = await createGateway({ emulator: { recordRequests: true } });
    const storeId = await seed();
    const sdkFilter = {
      type: 'and' as const,
      filters: [
        { type: 'eq' as const, key: 'lang', value: 'en' },
        { type: 'gte' as const, key: 'year', value: 2024 },
      ],
    };
    const direct = await gateway.openai.vectorStores.search(storeId, {
      query: 'refunds',
      filters: sdkFilter,
    });
    const sentBySdk = gateway.emulator.stats().requests.at(-1)!.body as { filters: unknown };

    const result = await gateway.graphql<SearchData>(SEARCH, {
      store: storeId,
      where: {
        and: [
          { eq: { key: 'lang', value: { string: 'en' } } },
          { gte: { key: 'year', value: { number: 2024 } } },
        ],
      },
    });

    expect(result.errors).toBeUndefined();
    const sentByGateway = gateway.emulator.stats().requests.at(-1)!.body as { filters: unknown };
    expect(sentByGateway.filters).toEqual(sentBySdk.filters);
    const hits = result.data!.vectorStore.searchPage.results.map((hit) => hit.filename);
    expect(hits).toEqual(direct.data.map((hit) => hit.filename));
    expect(hits.sort()).toEqual(['refunds-en-2025.txt', 'shipping-en-2025.txt']);
  });

  it('drops results below rankingOptions.scoreThreshold, and says what it searched for', async () => {
    gateway = await createGateway({ emulator: { recordRequests: true } });
    const storeId = await seed();
    const all = await gateway.graphql<SearchData>(SEARCH, { store: storeId });
    const scores = all.data!.vectorStore.searchPage.results.map((hit) => hit.score);
    expect(scores.length).toBeGreaterThan(1);
    const threshold = (Math.max(...scores) + Math.min(...scores)) / 2;

    const kept = await gateway.graphql<SearchData>(SEARCH, {
      store: storeId,
      ranking: { ranker: 'NONE', scoreThreshold: threshold },
      queries: ['refund policy'],
    });

    const page = kept.data!.vectorStore.searchPage;
    expect(page.results.length).toBeGreaterThan(0);
    expect(page.results.length).toBeLessThan(scores.length);
    expect(page.results.every((hit) => hit.score >= threshold)).toBe(true);
    expect(page.searchQuery).toEqual(['refunds', 'refund policy']);
    expect(gateway.emulator.stats().requests.at(-1)!.body).toMatchObject({
      query: ['refunds', 'refund policy'],
      ranking_options: { ranker: 'none', score_threshold: threshold },
    });
  });

  it('refuses a filter given twice, a threshold out of range and a typed filter naming two comparisons', async () => {
    gateway = await createGateway();
    const storeId = await seed();
    gateway.resetUpstreamCalls();
    const twice = await gateway.graphql(SEARCH, {
      store: storeId,
      where: { eq: { key: 'lang', value: { string: 'en' } } },
      filters: { type: 'eq', key: 'lang', value: 'en' },
    });
    expect(twice.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'where' } });
    const high = await gateway.graphql(SEARCH, { store: storeId, ranking: { scoreThreshold: 1.5 } });
    expect(high.errors?.[0]?.message).toMatch(/scoreThreshold.*between 0 and 1/);
    const both = await gateway.graphql(SEARCH, {
      store: storeId,
      where: { eq: { key: 'a', value: { string: 'x' } }, ne: { key: 'b', value: { string: 'y' } } },
    });
    expect(both.errors?.[0]?.message).toMatch(/exactly one key/i);
    // The store lookups only: every refusal came before a search.
    expect(
      gateway.emulator.stats().byRoute['POST /v1/vector_stores/{vector_store_id}/search'],
    ).toBeUndefined();
  });
});
