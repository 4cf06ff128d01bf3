import { readFileSync } from 'node:fs';
import { buildSchema, getIntrospectionQuery, isObjectType, parse } from 'graphql';
import { Upload } from 'graphql-upload-minimal';
import { describe, expect, it } from 'vitest';
import { estimateUpstreamCalls, MUTATION_CALLS, priceOf, TAIL_READS } from '../../src/schema/cost.ts';
import { schema } from '../../src/schema/index.ts';
import { attachCalls } from '../../src/schema/vector-store-files/attach.ts';
import { storeFileReads } from '../../src/schema/vector-store-files/loaders.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
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

/** An `Upload` value, as the multipart parser places it in the variables. */
function upload3(): Upload {
  return new Upload();
}

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
    // `last` with no cursor reads the end of the list: up to three calls (connections.ts).
    expect(cost('{ vectorStores(last: 150) { nodes { files(first: 0) { totalCount } } } }')).toBe(
      TAIL_READS + 100,
    );
    expect(cost('{ vectorStores(last: 5, before: "vs_a") { __typename } }')).toBe(1);
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
    // One per id, and one for each store two of them may share.
    expect(cost(nodes)).toBe(3 + 1 + 3);
    const byVariable =
      'query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on VectorStoreFile { file { bytes } } } }';
    // The ids may come from different stores, so their file details are not counted as one page.
    expect(cost(byVariable, { ids: ['a', 'b', 'c', 'd'] })).toBe(4 + 2 + 4);
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
    // Each level spreads the next under three fields: 3^depth walks, though the text is short.
    const bomb = (depth: number) => {
      const levels = Array.from(
        { length: depth },
        (_, i) =>
          `fragment L${i} on VectorStore { files { nodes { vectorStore { ...L${i + 1} } } } file(id: "a") { vectorStore { ...L${i + 1} } } fileBatch(id: "b") { vectorStore { ...L${i + 1} } } }`,
      );
      return `{ vectorStore(id: "vs_a") { ...L0 } } ${levels.join(' ')} fragment L${depth} on VectorStore { id }`;
    };
    // Shallow enough to walk whole (and far too dear to run), then past the bound on field visits.
    expect(cost(bomb(4))).toBeGreaterThan(150);
    expect(cost(bomb(4))).toBeLessThan(Number.POSITIVE_INFINITY);
    expect(cost(bomb(10))).toBe(Number.POSITIVE_INFINITY);
  });

  it('prices mutations by what their input asks for, and their payloads by the rows they will hold', () => {
    const create = /* GraphQL */ `
      mutation {
        createVectorStore(input: { name: "docs", fileIds: ["file-1", "file-2"] }) {
          ... on CreateVectorStorePayload { vectorStore { files(first: 5) { nodes { file { filename } } } } }
          ... on InvalidInputError { message }
        }
      }
    `;
    expect(cost(create)).toBe(MUTATION_CALLS + 1 + 1);

    const upload = /* GraphQL */ `
      mutation ($files: [Upload!]!) {
        uploadFiles(input: { vectorStoreId: "vs_a", files: $files }) {
          ... on UploadFilesPayload { files { status file { filename } } }
        }
      }
    `;
    // The store; per file an upload, a look for it should its answer be lost, and a clean-up
    // delete; the attach; then the files read back (the store and each file) and their details.
    expect(cost(upload, { files: [upload3(), upload3(), upload3()] })).toBe(
      1 + 3 * 3 + attachCalls(3) + storeFileReads(3) + 1,
    );
    expect(cost(upload, { files: [upload3()] })).toBe(1 + 3 + attachCalls(1) + storeFileReads(1) + 1);

    const twice = /* GraphQL */ `
      mutation {
        a: addFiles(input: { vectorStoreId: "vs_a", fileIds: ["file-1"] }) { ... on AddFilesPayload { files { id } } }
        b: addFiles(input: { vectorStoreId: "vs_b", fileIds: ["file-2"] }) {
          ... on AddFilesPayload { files { vectorStore { files { nodes { id } } } } }
        }
      }
    `;
    // Each: the store, whether the file exists, the attach, and the file read back. Below that, the
    // rows share their store (one lookup) and each resolves its own connection.
    const addOne = 1 + 1 + attachCalls(1) + storeFileReads(1);
    expect(cost(twice)).toBe(2 * addOne + 1 + 1);

    const thousands =
      'mutation ($ids: [ID!]!) { addFiles(input: { vectorStoreId: "vs_a", fileIds: $ids }) { __typename } }';
    const ids = Array.from({ length: 10_000 }, (_, i) => `file-${i}`);
    // Five batches, each priced with its resends and verification reads: past the default limit.
    expect(cost(thousands, { ids })).toBe(1 + 1 + attachCalls(10_000));
    expect(attachCalls(10_000)).toBeGreaterThan(150);

    const remove =
      'mutation ($ids: [ID!]!, $d: Boolean) { removeFiles(input: { vectorStoreId: "vs_a", fileIds: $ids, deleteFiles: $d }) { __typename } }';
    const hundred = Array.from({ length: 100 }, (_, i) => `file-${i}`);
    expect(cost(remove, { ids: hundred, d: false })).toBe(1 + 100);
    expect(cost(remove, { ids: hundred, d: true })).toBe(1 + 200);
  });

  it('takes each price from its field: every root field and every connection declares one', () => {
    const undeclared: string[] = [];
    for (const root of [schema.getQueryType(), schema.getMutationType()]) {
      for (const field of Object.values(root?.getFields() ?? {})) {
        if (field.name !== 'credentials' && !priceOf(field)) undeclared.push(`${root?.name}.${field.name}`);
      }
    }
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        const paged = field.args.some((arg) => arg.name === 'first' || arg.name === 'last');
        if (paged && !priceOf(field)) undeclared.push(`${type.name}.${field.name}`);
      }
    }
    expect(undeclared).toEqual([]);
    // A field without a price (one that reads no upstream) costs nothing.
    expect(cost('{ a }', {}, undefined, buildSchema('type Query { a: Int }'))).toBe(0);
  });
});
