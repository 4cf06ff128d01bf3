import { readFileSync } from 'node:fs';
import { buildSchema, extendSchema, getIntrospectionQuery, parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import {
  createLimitsPlugin,
  defaultQueryLimits,
  estimateUpstreamCalls,
  MUTATION_CALLS,
} from '../src/limits.ts';
import { schema } from '../src/schema/index.ts';
import { type GraphQLResponse, seedStore, startGateway, type TestGateway } from './support/gateway.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const README_QUERIES = readme.split('```graphql')[1]!.split('```')[0]!;

const HUNDRED_STORES_HUNDRED_FILES_WITH_DETAILS = /* GraphQL */ `
  {
    vectorStores(first: 100) {
      nodes { files(first: 100) { nodes { file { filename } } } }
    }
  }
`;

function cost(
  query: string,
  variables?: Record<string, unknown>,
  operationName?: string,
  onSchema = schema,
): number | null {
  return estimateUpstreamCalls({ schema: onSchema, document: parse(query), variables, operationName });
}

// The mutations as design/contract.graphql describes them, over the read types they return (the
// pricing goes by type and field names), so these tests do not follow the schema as it changes.
const withMutations = buildSchema(/* GraphQL */ `
  scalar Upload
  scalar JSONObject
  type Query { vectorStore(id: ID!): VectorStore }
  type VectorStore { id: ID! files(first: Int, last: Int): VectorStoreFileConnection! }
  type VectorStoreFileConnection { nodes: [VectorStoreFile!]! }
  type VectorStoreFile { id: ID! status: String! vectorStore: VectorStore! file: File }
  type File { filename: String! }
  type Mutation {
    createVectorStore(input: CreateVectorStoreInput!): CreateVectorStoreResult!
    uploadFiles(input: UploadFilesInput!): UploadFilesResult!
    addFiles(input: AddFilesInput!): AddFilesPayload!
  }
  input CreateVectorStoreInput { name: String fileIds: [ID!] }
  input UploadFilesInput { vectorStoreId: ID! files: [Upload!]! attributes: JSONObject }
  input AddFilesInput { vectorStoreId: ID! fileIds: [ID!]! }
  type InvalidInputError { message: String! path: [String!]! }
  type CreateVectorStorePayload { vectorStore: VectorStore }
  union CreateVectorStoreResult = CreateVectorStorePayload | InvalidInputError
  type UploadFilesPayload { vectorStore: VectorStore files: [VectorStoreFile!]! }
  union UploadFilesResult = UploadFilesPayload | InvalidInputError
  type AddFilesPayload { vectorStore: VectorStore files: [VectorStoreFile!]! }
`);

describe('the upstream-call estimate', () => {
  it('prices the README queries: 41 for the dashboard, 7 for the search', () => {
    // Dashboard: 1 store list + 20 file lists + 1 file-details call per page of 10 rows.
    expect(cost(README_QUERIES, {}, 'Dashboard')).toBe(1 + 20 + 20);
    // Search: the store, the search, and one lookup per result at most.
    expect(cost(README_QUERIES, { store: 'vs_abc' }, 'Search')).toBe(1 + 1 + 5);
  });

  it('prices nested connections by page size, and file details once per page', () => {
    expect(cost('{ vectorStores(first: 100) { nodes { files(first: 100) { nodes { id } } } } }')).toBe(101);
    expect(cost(HUNDRED_STORES_HUNDRED_FILES_WITH_DETAILS)).toBe(1 + 100 + 100);
    // Each row resolves its own nested connection: the fan-out the limit exists for.
    expect(
      cost(
        '{ vectorStores(first: 100) { nodes { files(first: 100) { nodes { vectorStore { files(first: 100) { nodes { id } } } } } } } }',
      ),
    ).toBe(1 + 100 + 100 + 100 * 100);
  });

  it('takes page sizes from variables, defaults absent ones to 20 and clamps them to 100', () => {
    const query = 'query ($n: Int) { vectorStores(first: $n) { nodes { files { totalCount } } } }';
    expect(cost(query, { n: 5 })).toBe(1 + 5);
    expect(cost(query)).toBe(1 + 20);
    expect(cost('{ vectorStores(last: 150) { nodes { files(first: 0) { totalCount } } } }')).toBe(1 + 100);
  });

  it('follows named and inline fragments and merges the fields execution merges', () => {
    const query = /* GraphQL */ `
      { vectorStores(first: 10) { ...Ids ...Details ... on VectorStoreConnection { pageInfo { hasNextPage } } } }
      fragment Ids on VectorStoreConnection { nodes { files(first: 5) { nodes { id } } } }
      fragment Details on VectorStoreConnection { nodes { files(first: 5) { nodes { file { filename } } } } }
    `;
    expect(cost(query)).toBe(1 + 10 + 10);
    // An alias is a second resolution, so it is paid for again.
    expect(cost('{ a: vectorStores(first: 10) { __typename } b: vectorStores { __typename } }')).toBe(2);
  });

  it('honours @skip and @include', () => {
    const query = /* GraphQL */ `
      query ($details: Boolean!) {
        vectorStores(first: 10) {
          nodes { files(first: 10) @include(if: $details) { nodes { id } } search(query: "x") @skip(if: true) { score } }
        }
      }
    `;
    expect(cost(query, { details: true })).toBe(1 + 10);
    expect(cost(query, { details: false })).toBe(1);
  });

  it('prices node by its dearest possible type and nodes by its ids, literal or variable', () => {
    const node = /* GraphQL */ `
      query ($id: ID!) {
        node(id: $id) {
          ... on VectorStore { files { nodes { id } } }
          ... on FileBatch { files { nodes { file { filename } } } }
        }
      }
    `;
    expect(cost(node, { id: 'vs_abc' })).toBe(1 + 1 + 1);
    const nodes =
      '{ nodes(ids: ["a", "b", "c"]) { ... on VectorStore { files(first: 10) { nodes { id } } } } }';
    expect(cost(nodes)).toBe(3 + 3);
    const byVariable =
      'query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on VectorStoreFile { file { bytes } } } }';
    // The ids may come from different stores, so their file details are not counted as one page.
    expect(cost(byVariable, { ids: ['a', 'b', 'c', 'd'] })).toBe(4 + 4);
  });

  it('prices search by maxResults, one lookup per result', () => {
    const query = /* GraphQL */ `
      { vectorStores(first: 3) { nodes { search(query: "refunds") { file { file { filename } } } } } }
    `;
    expect(cost(query)).toBe(1 + 3 + 3 * 10 + 3);
    expect(
      cost('query ($id: ID!) { vectorStore(id: $id) { search(query: "x", maxResults: 2) { score } } }', {
        id: 'vs_a',
      }),
    ).toBe(2);
  });

  it('costs nothing for introspection and __typename', () => {
    expect(cost(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true }))).toBe(0);
    expect(cost('{ __typename }')).toBe(0);
  });

  it('is null for an operation that cannot execute, which then fails before any resolver', () => {
    expect(cost('query A { __typename } query B { __typename }')).toBeNull();
    expect(cost('query ($n: Int!) { vectorStores(first: $n) { __typename } }')).toBeNull();
  });

  it('prices a fragment cycle, which only an unvalidated document can hold, as unbounded', () => {
    const cyclic = /* GraphQL */ `
      { vectorStores { nodes { files { ...Rows } } } }
      fragment Rows on VectorStoreFileConnection { nodes { vectorStore { files { ...Rows } } } }
    `;
    expect(cost(cyclic)).toBe(Number.POSITIVE_INFINITY);
  });

  it('stops pricing a document whose fragments multiply past any real query', () => {
    // Each level spreads the next under three fields: 3^10 walks, though the text is short.
    const levels = Array.from(
      { length: 10 },
      (_, i) =>
        `fragment L${i} on VectorStore { files { nodes { vectorStore { ...L${i + 1} } } } file(id: "a") { vectorStore { ...L${i + 1} } } fileBatch(id: "b") { vectorStore { ...L${i + 1} } } }`,
    );
    const bomb = `{ vectorStore(id: "vs_a") { ...L0 } } ${levels.join(' ')} fragment L10 on VectorStore { id }`;
    const started = performance.now();
    expect(cost(bomb)).toBe(Number.POSITIVE_INFINITY);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('prices mutations at a fixed cost plus one call per uploaded file, and their payloads as queries', () => {
    const create = /* GraphQL */ `
      mutation {
        createVectorStore(input: { name: "docs", fileIds: ["file-1", "file-2"] }) {
          ... on CreateVectorStorePayload { vectorStore { files(first: 5) { nodes { file { filename } } } } }
          ... on InvalidInputError { message }
        }
      }
    `;
    expect(cost(create, {}, undefined, withMutations)).toBe(MUTATION_CALLS + 1 + 1);

    const upload = /* GraphQL */ `
      mutation ($files: [Upload!]!) {
        uploadFiles(input: { vectorStoreId: "vs_a", files: $files }) {
          ... on UploadFilesPayload { files { status file { filename } } }
        }
      }
    `;
    expect(cost(upload, { files: ['a.txt', 'b.txt', 'c.txt'] }, undefined, withMutations)).toBe(
      MUTATION_CALLS + 3 + 1,
    );

    const twice = /* GraphQL */ `
      mutation {
        a: addFiles(input: { vectorStoreId: "vs_a", fileIds: ["file-1"] }) { files { id } }
        b: addFiles(input: { vectorStoreId: "vs_b", fileIds: ["file-2"] }) { files { vectorStore { files { nodes { id } } } } }
      }
    `;
    // A payload list the schema does not page is taken to be one page as long as the longest page:
    // its rows share the store (1 lookup), and each row resolves its own nested connection.
    expect(cost(twice, {}, undefined, withMutations)).toBe(2 * MUTATION_CALLS + 1 + 100);
  });

  it('prices a field it does not know at 0, or as a connection when it takes first/last', () => {
    const future = extendSchema(
      schema,
      parse(/* GraphQL */ `
        extend type Query { localOnly: [String!]! pagedLater(first: Int): VectorStoreFileConnection! }
      `),
    );
    expect(cost('{ localOnly pagedLater(first: 7) { nodes { file { id } } } }', {}, undefined, future)).toBe(
      1 + 1,
    );
    const bare = buildSchema('type Query { a: Int }');
    expect(cost('{ a }', {}, undefined, bare)).toBe(0);
  });
});

type Response = GraphQLResponse & { extensions?: Record<string, unknown> };

async function post(
  gateway: TestGateway,
  query: string,
  variables?: Record<string, unknown>,
  operationName?: string,
): Promise<Response> {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables, operationName }),
  });
  return (await response.json()) as Response;
}

describe('limits before execution, over HTTP against the emulator', () => {
  let gateway: TestGateway;
  let storeId: string;

  beforeAll(async () => {
    gateway = await startGateway();
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
    const strict = await startGateway({
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
    // No mutation resolver exists yet: the rejection must come before execution would need one.
    const yoga = createYoga({
      schema: withMutations,
      plugins: [createLimitsPlugin({ maxUpstreamCalls: 3 })],
    });
    const response = await yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        query:
          'mutation ($files: [Upload!]!) { uploadFiles(input: { vectorStoreId: "vs_a", files: $files }) { __typename } }',
        variables: { files: ['a', 'b', 'c', 'd'] },
      }),
    });
    const result = (await response.json()) as GraphQLResponse;
    expect(result.errors).toEqual([
      {
        message: 'Mutation would make up to 5 upstream calls; the limit is 3.',
        extensions: { code: 'QUERY_TOO_EXPENSIVE', cost: 5, limit: 3 },
      },
    ]);
  });
});
