import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeGlobalId } from '../../src/schema/ids.ts';
import { createGateway, seedStore, type TestGateway } from '../support/gateway.ts';

describe('node lookups', () => {
  let gateway: TestGateway;
  beforeEach(async () => {
    gateway = await createGateway();
  });
  afterEach(() => gateway.close());

  it('resolves 100 files of one store through nodes(ids:) in at most 2 upstream calls', async () => {
    const { storeId, fileIds } = await seedStore(gateway.openai, { files: 100 });
    const ids = fileIds.map((fileId) => encodeGlobalId('VectorStoreFile', `${storeId}:${fileId}`));
    gateway.resetUpstreamCalls();

    const result = await gateway.graphql<{
      nodes: Array<{ __typename: string; openaiId: string; status: string }>;
    }>(
      `query ($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on VectorStoreFile { openaiId status } } }`,
      { ids },
    );

    expect(result.errors).toBeUndefined();
    expect(result.data!.nodes.map((node) => node.openaiId)).toEqual(fileIds);
    expect(
      result.data!.nodes.every(
        (node) => node.__typename === 'VectorStoreFile' && node.status === 'COMPLETED',
      ),
    ).toBe(true);
    expect(gateway.upstreamCalls()).toBeLessThanOrEqual(2);
  });

  it('resolves every node type, by global id and by raw OpenAI id', async () => {
    const { storeId, fileIds } = await seedStore(gateway.openai, { files: 1 });
    const fileId = fileIds[0]!;
    const batch = await gateway.openai.vectorStores.fileBatches.create(storeId, { file_ids: [fileId] });
    const query = /* GraphQL */ `
      query ($ids: [ID!]!) {
        nodes(ids: $ids) {
          __typename id
          ... on VectorStore { openaiId }
          ... on File { openaiId filename }
          ... on VectorStoreFile { openaiId vectorStore { openaiId } }
          ... on FileBatch { openaiId vectorStore { openaiId } }
        }
      }`;
    const ids = [
      storeId,
      fileId,
      encodeGlobalId('VectorStore', storeId),
      encodeGlobalId('File', fileId),
      encodeGlobalId('VectorStoreFile', `${storeId}:${fileId}`),
      encodeGlobalId('FileBatch', `${storeId}:${batch.id}`),
    ];
    const result = await gateway.graphql<{
      nodes: Array<{ __typename: string; id: string; openaiId: string }>;
    }>(query, { ids });

    expect(result.errors).toBeUndefined();
    const nodes = result.data!.nodes;
    expect(nodes.map((node) => node.__typename)).toEqual([
      'VectorStore',
      'File',
      'VectorStore',
      'File',
      'VectorStoreFile',
      'FileBatch',
    ]);
    expect(nodes.map((node) => node.openaiId)).toEqual([storeId, fileId, storeId, fileId, fileId, batch.id]);
    // A raw id and a global id name the same node, which always answers with its global id.
    expect(nodes[0]!.id).toBe(ids[2]);
    expect(nodes[1]!.id).toBe(ids[3]);
    expect(nodes[4]!.id).toBe(ids[4]);
    // Round trip: every id a node reports fetches that node again.
    const again = await gateway.graphql<{ nodes: Array<{ id: string }> }>(query, {
      ids: nodes.map((node) => node.id),
    });
    expect(again.data!.nodes.map((node) => node.id)).toEqual(nodes.map((node) => node.id));
  });

  it('answers null without an error for well-formed ids that do not exist', async () => {
    const { storeId } = await seedStore(gateway.openai, { files: 0 });
    const missingStore = 'vs_00000000000000000000000000000000';
    const missingFile = 'file-0000000000000000000000';
    const result = await gateway.graphql(
      `query ($missingStore: ID!, $missingFile: ID!, $store: ID!, $vsf: ID!) {
        node(id: $missingStore) { id }
        vectorStore(id: $missingStore) { id }
        file(id: $missingFile) { id }
        nodes(ids: [$missingStore, $missingFile, $vsf]) { id }
        store: vectorStore(id: $store) { file(id: $missingFile) { id } fileBatch(id: "vsfb_00000000000000000000000000000000") { id } }
      }`,
      {
        missingStore,
        missingFile,
        store: storeId,
        vsf: encodeGlobalId('VectorStoreFile', `${storeId}:${missingFile}`),
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      node: null,
      vectorStore: null,
      file: null,
      nodes: [null, null, null],
      store: { file: null, fileBatch: null },
    });
  });

  it('rejects malformed and wrong-kind ids with a clear error and code, before any upstream call', async () => {
    gateway.resetUpstreamCalls();
    const cases = [
      { query: '{ node(id: "not an id!") { id } }', message: /not a valid id/ },
      { query: '{ vectorStore(id: "file-abc") { id } }', message: /not a vector store id/ },
      {
        query: `{ file(id: "${encodeGlobalId('VectorStore', 'vs_abc')}") { id } }`,
        message: /not a file id/,
      },
      { query: `{ node(id: "${encodeGlobalId('Unicorn', 'x')}") { id } }`, message: /not a valid id/ },
      { query: '{ node(id: "vsfb_abc") { id } }', message: /does not say which vector store/ },
    ];
    for (const { query, message } of cases) {
      const result = await gateway.graphql(query);
      expect(result.errors?.[0]?.message).toMatch(message);
      expect(result.errors?.[0]?.extensions?.code).toBe('INVALID_ID');
    }
    expect(gateway.upstreamCalls()).toBe(0);
  });
});
