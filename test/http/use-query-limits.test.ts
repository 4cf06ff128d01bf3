import { readFileSync } from 'node:fs';
import { getIntrospectionQuery } from 'graphql';
import { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { defaultQueryLimits } from '../../src/http/use-query-limits.ts';
import { createGateway, type GraphQLResponse, seedStore, type TestGateway } from '../support/gateway.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const README_QUERIES = readme.split('```graphql')[1]!.split('```')[0]!;

const HUNDRED_STORES_HUNDRED_FILES_WITH_DETAILS = /* GraphQL */ `
  {
    vectorStores(first: 100) {
      nodes { files(first: 100) { nodes { file { filename } } } }
    }
  }
`;

type Response = GraphQLResponse & { extensions?: Record<string, unknown> };

async function post(
  gateway: TestGateway,
  query: string,
  variables?: Record<string, unknown>,
  operationName?: string,
): Promise<Response> {
  const response = await gateway.fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables, operationName }),
  });
  return (await response.json()) as Response;
}

describe('limits before execution, through the gateway against the emulator', () => {
  let gateway: TestGateway;
  let storeId: string;

  beforeAll(async () => {
    gateway = await createGateway();
    for (let store = 0; store < 3; store++) {
      ({ storeId } = await seedStore(gateway.openai, {
        name: `store-${store}`,
        files: 3,
        attributes: { lang: 'en' },
      }));
      gateway.clock.advance(1000);
    }
    // The README's search looks for a refund policy in English files.
    const policy = await gateway.openai.files.create({
      file: await toFile(Buffer.from('Our refund policy: refunds within 30 days.'), 'refunds.txt', {
        type: 'text/plain',
      }),
      purpose: 'assistants',
    });
    await gateway.openai.vectorStores.fileBatches.create(storeId, {
      file_ids: [policy.id],
      attributes: { lang: 'en' },
    });
  });
  afterAll(() => gateway.close());
  beforeEach(() => gateway.resetUpstreamCalls());

  const upstreamCalls = () => gateway.upstreamCalls();
  const graphql = (query: string, variables?: Record<string, unknown>, operationName?: string) =>
    post(gateway, query, variables, operationName);

  it('runs the README queries, reporting their estimate, which bounds the calls made', async () => {
    const dashboard = await graphql(README_QUERIES, {}, 'Dashboard');
    expect(dashboard.errors).toBeUndefined();
    expect(dashboard.data?.vectorStores).toMatchObject({ nodes: expect.any(Array) });
    expect(dashboard.extensions?.cost).toEqual({ upstreamCalls: 41, limit: 150 });
    expect(upstreamCalls()).toBeLessThanOrEqual(41);

    gateway.resetUpstreamCalls();
    const search = await graphql(README_QUERIES, { store: storeId }, 'Search');
    expect(search.errors).toBeUndefined();
    const store = search.data?.vectorStore as { search: Array<{ file: { id: string } | null }> } | undefined;
    const results = store?.search ?? [];
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((result) => result.file !== null)).toBe(true);
    expect(search.extensions?.cost).toEqual({ upstreamCalls: 7, limit: 150 });
    expect(upstreamCalls()).toBeLessThanOrEqual(7);
  });

  it('runs 100 stores with 100 file ids each (101 calls at most)', async () => {
    const result = await graphql(
      '{ vectorStores(first: 100) { nodes { files(first: 100) { nodes { id } } } } }',
    );
    expect(result.errors).toBeUndefined();
    expect(result.extensions?.cost).toEqual({ upstreamCalls: 101, limit: 150 });
  });

  it('rejects 100 stores x 100 files x file details with its cost, before any upstream call', async () => {
    const result = await graphql(HUNDRED_STORES_HUNDRED_FILES_WITH_DETAILS);
    expect(result.data).toBeUndefined();
    expect(result.errors).toEqual([
      {
        message: 'Query would make up to 201 upstream calls; the limit is 150.',
        extensions: { code: 'QUERY_TOO_EXPENSIVE', cost: 201, limit: 150 },
      },
    ]);
    expect(upstreamCalls()).toBe(0);
  });

  it('prices with the variables sent, and says large costs legibly', async () => {
    const query = /* GraphQL */ `
      query ($stores: Int, $files: Int) {
        vectorStores(first: $stores) {
          nodes { files(first: $files) { nodes { vectorStore { files(first: $files) { nodes { id } } } } } }
        }
      }
    `;
    const cheap = await graphql(query, { stores: 2, files: 3 });
    expect(cheap.errors).toBeUndefined();
    expect(cheap.extensions?.cost).toEqual({ upstreamCalls: 1 + 2 + 2 + 6, limit: 150 });

    gateway.resetUpstreamCalls();
    const dear = await graphql(query, { stores: 100, files: 100 });
    expect(dear.errors?.[0]?.message).toBe('Query would make up to 10,201 upstream calls; the limit is 150.');
    expect(upstreamCalls()).toBe(0);
  });

  it('rejects a query deeper than 10 levels, and passes the dashboard written with edges (8)', async () => {
    const edges = await graphql(/* GraphQL */ `
      { vectorStores(first: 2) { edges { node { files(first: 2) { edges { node { file { filename } } } } } } } }
    `);
    expect(edges.errors).toBeUndefined();

    gateway.resetUpstreamCalls();
    const deep = await graphql(/* GraphQL */ `
      { vectorStores(first: 1) { edges { node { files(first: 1) { edges { node {
        vectorStore { files(first: 1) { edges { node { id } } } }
      } } } } } } }
    `);
    expect(deep.errors).toEqual([
      {
        message: 'Query depth limit of 10 exceeded, found 11.',
        extensions: { code: 'QUERY_TOO_DEEP', limit: 10 },
      },
    ]);
    expect(upstreamCalls()).toBe(0);
  });

  it('counts depth the same whether or not the query is split into fragments', async () => {
    const result = await graphql(/* GraphQL */ `
      { vectorStores(first: 1) { ...Stores } }
      fragment Stores on VectorStoreConnection { edges { node { ...Store } } }
      fragment Store on VectorStore { files(first: 1) { edges { node { ...Row } } } }
      fragment Row on VectorStoreFile { vectorStore { files(first: 1) { edges { node { id } } } } }
    `);
    expect(result.errors?.[0]?.message).toBe('Query depth limit of 10 exceeded, found 11.');
    expect(upstreamCalls()).toBe(0);
  });

  it('rejects more than 15 aliases', async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `s${i}: vectorStores(first: 1) { __typename }`);
    const result = await graphql(`{ ${aliases.join(' ')} }`);
    expect(result.errors).toEqual([
      {
        message: 'Aliases limit of 15 exceeded, found 16.',
        extensions: { code: 'TOO_MANY_ALIASES', limit: 15 },
      },
    ]);
    expect(upstreamCalls()).toBe(0);

    const fifteen = await graphql(`{ ${aliases.slice(0, 15).join(' ')} t: __typename }`);
    expect(fifteen.errors).toBeUndefined();
  });

  it('rejects more than 50 directives', async () => {
    const ids = Array.from({ length: 51 }, () => 'id @include(if: true)').join(' ');
    const result = await graphql(`{ vectorStores(first: 1) { nodes { ${ids} } } }`);
    expect(result.errors).toEqual([
      {
        message: 'Directives limit of 50 exceeded, found 51.',
        extensions: { code: 'TOO_MANY_DIRECTIVES', limit: 50 },
      },
    ]);
    expect(upstreamCalls()).toBe(0);
  });

  it('rejects a document of more than 1,000 tokens while parsing it', async () => {
    const ids = Array.from({ length: 1000 }, () => 'id').join(' ');
    const result = await graphql(`{ vectorStores(first: 1) { nodes { ${ids} } } }`);
    expect(result.errors).toEqual([
      {
        message: 'Syntax Error: Token limit of 1000 exceeded.',
        extensions: { code: 'GRAPHQL_PARSE_FAILED' },
      },
    ]);
    expect(upstreamCalls()).toBe(0);
  });

  it("answers GraphiQL's introspection query", async () => {
    const result = await graphql(
      getIntrospectionQuery({
        descriptions: true,
        specifiedByUrl: true,
        directiveIsRepeatable: true,
        schemaDescription: true,
        inputValueDeprecation: true,
      }),
    );
    expect(result.errors).toBeUndefined();
    expect(result.extensions?.cost).toEqual({ upstreamCalls: 0, limit: 150 });
  });

  it('takes its limits as options', async () => {
    const strict = await createGateway({
      app: { limits: { maxUpstreamCalls: 40, maxDepth: 6 } },
    });
    onTestFinished(() => strict.close());
    const dashboard = await post(strict, README_QUERIES, {}, 'Dashboard');
    expect(dashboard.errors?.[0]?.extensions).toEqual({ code: 'QUERY_TOO_EXPENSIVE', cost: 41, limit: 40 });
    const deep = await post(
      strict,
      '{ vectorStores(first: 1) { edges { node { files { nodes { file { filename } } } } } } }',
    );
    expect(deep.errors?.[0]?.message).toBe('Query depth limit of 6 exceeded, found 7.');
    expect(strict.upstreamCalls()).toBe(0);
    expect(defaultQueryLimits).toEqual({
      maxDepth: 10,
      maxAliases: 15,
      maxTokens: 1000,
      maxDirectives: 50,
      maxUpstreamCalls: 150,
    });
  });

  it('rejects a mutation over budget, naming it a mutation', async () => {
    const strict = await createGateway({ app: { limits: { maxUpstreamCalls: 1 } } });
    onTestFinished(() => strict.close());
    const result = await post(
      strict,
      'mutation { createVectorStore(input: { name: "x" }) { ... on CreateVectorStorePayload { vectorStore { files { nodes { id } } } } } }',
    );
    expect(result.errors).toEqual([
      {
        message: 'Mutation would make up to 2 upstream calls; the limit is 1.',
        extensions: { code: 'QUERY_TOO_EXPENSIVE', cost: 2, limit: 1 },
      },
    ]);
    expect(strict.upstreamCalls()).toBe(0);
  });
});
