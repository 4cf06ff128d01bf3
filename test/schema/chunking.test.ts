import { afterEach, describe, expect, it } from 'vitest';
import { createGateway, type TestGateway, uploadTextFiles } from '../support/gateway.ts';

let gateway: TestGateway;
afterEach(() => gateway.close());

/** Long enough to make several chunks of either size: about 1,600 tokens at four characters a token. */
const LONG_TEXT = Array.from({ length: 400 }, (_, i) => `Sentence ${i} about vector stores.`).join(' ');

const STORE_FILES = /* GraphQL */ `
  query ($id: ID!) {
    vectorStore(id: $id) {
      files(first: 10) {
        nodes {
          openaiId
          attributes
          chunkingStrategy { type maxChunkSizeTokens chunkOverlapTokens }
          content(first: 100) { edges { node { type text } } pageInfo { hasNextPage } }
        }
      }
    }
  }
`;

interface FileNode {
  openaiId: string;
  attributes: Record<string, unknown> | null;
  chunkingStrategy: { type: string; maxChunkSizeTokens: number; chunkOverlapTokens: number };
  content: { edges: Array<{ node: { type: string; text: string } }>; pageInfo: { hasNextPage: boolean } };
}

async function storeFiles(id: string): Promise<FileNode[]> {
  const result = await gateway.graphql<{ vectorStore: { files: { nodes: FileNode[] } } }>(STORE_FILES, {
    id,
  });
  expect(result.errors).toBeUndefined();
  return result.data!.vectorStore.files.nodes;
}

describe('chunking strategies', () => {
  it('creates a store chunked statically (400/100): its files show it, and OpenAI chunks by it', async () => {
    gateway = await createGateway({ emulator: { recordRequests: true } });
    const file = await gateway.openai.files.create({
      file: new File([LONG_TEXT], 'long.txt'),
      purpose: 'assistants',
    });
    const created = await gateway.graphql<{ createVectorStore: { vectorStore: { openaiId: string } } }>(
      `mutation ($input: CreateVectorStoreInput!) {
        createVectorStore(input: $input) { ... on CreateVectorStorePayload { vectorStore { openaiId } } }
      }`,
      {
        input: {
          name: 'static',
          fileIds: [file.id],
          chunkingStrategy: { static: { maxChunkSizeTokens: 400, chunkOverlapTokens: 100 } },
        },
      },
    );
    expect(gateway.emulator.stats().requests.at(-1)!.body).toMatchObject({
      chunking_strategy: {
        type: 'static',
        static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 100 },
      },
    });
    const storeId = created.data!.createVectorStore.vectorStore.openaiId;
    const [staticFile] = await storeFiles(storeId);
    expect(staticFile!.chunkingStrategy).toEqual({
      type: 'STATIC',
      maxChunkSizeTokens: 400,
      chunkOverlapTokens: 100,
    });

    // The same text under auto (800/400) comes in fewer, longer chunks.
    const auto = await gateway.openai.vectorStores.create({ name: 'auto', file_ids: [file.id] });
    const [autoFile] = await storeFiles(auto.id);
    expect(autoFile!.chunkingStrategy).toEqual({
      type: 'STATIC',
      maxChunkSizeTokens: 800,
      chunkOverlapTokens: 400,
    });
    const staticChunks = await gateway.openai.vectorStores.search(storeId, {
      query: 'Sentence',
      max_num_results: 50,
    });
    const autoChunks = await gateway.openai.vectorStores.search(auto.id, {
      query: 'Sentence',
      max_num_results: 50,
    });
    const longest = (page: typeof staticChunks) =>
      Math.max(...page.data.flatMap((hit) => hit.content.map((part) => part.text.length)));
    expect(longest(staticChunks)).toBeLessThan(longest(autoChunks));

    // The file's parsed text, as a connection.
    expect(staticFile!.content.edges.map((edge) => edge.node.text).join(' ')).toContain('Sentence 399');
    expect(staticFile!.content.pageInfo.hasNextPage).toBe(false);
  });

  it('attaches files with shared and per-file attributes and chunking, in one batch', async () => {
    gateway = await createGateway({ emulator: { recordRequests: true } });
    const store = await gateway.openai.vectorStores.create({ name: 'mixed' });
    const [a = '', b = ''] = await uploadTextFiles(gateway.openai, 2);
    const result = await gateway.graphql(
      `mutation ($input: AddFilesInput!) { addFiles(input: $input) { ... on AddFilesPayload { failures { code } } } }`,
      {
        input: {
          vectorStoreId: store.id,
          fileIds: [a, b],
          attributes: { lang: 'en' },
          chunkingStrategy: { auto: true },
          perFile: [
            {
              fileId: b,
              attributes: { lang: 'de' },
              chunkingStrategy: { static: { maxChunkSizeTokens: 200, chunkOverlapTokens: 0 } },
            },
          ],
        },
      },
    );
    expect(result.errors).toBeUndefined();
    expect(gateway.emulator.stats().requests.find((r) => r.route.endsWith('/file_batches'))!.body).toEqual({
      files: [
        { file_id: a, attributes: { lang: 'en' }, chunking_strategy: { type: 'auto' } },
        {
          file_id: b,
          attributes: { lang: 'de' },
          chunking_strategy: {
            type: 'static',
            static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 0 },
          },
        },
      ],
    });
    const files = await storeFiles(store.id);
    const byId = new Map(files.map((file) => [file.openaiId, file]));
    expect(byId.get(a)).toMatchObject({
      attributes: { lang: 'en' },
      chunkingStrategy: { maxChunkSizeTokens: 800 },
    });
    expect(byId.get(b)).toMatchObject({
      attributes: { lang: 'de' },
      chunkingStrategy: { maxChunkSizeTokens: 200 },
    });
  });

  it('attaches one file with its own settings, and refuses settings out of range before any call', async () => {
    gateway = await createGateway({ emulator: { recordRequests: true } });
    const store = await gateway.openai.vectorStores.create({ name: 'one' });
    const [fileId] = await uploadTextFiles(gateway.openai, 1);
    const attach = (chunkingStrategy: unknown) =>
      gateway.graphql<{ attachFile: Record<string, unknown> }>(
        `mutation ($input: AttachFileInput!) {
          attachFile(input: $input) {
            __typename
            ... on AttachFilePayload { vectorStoreFile { openaiId attributes chunkingStrategy { maxChunkSizeTokens } } }
            ... on InvalidInputError { field message }
          }
        }`,
        { input: { vectorStoreId: store.id, fileId, attributes: { year: 2026 }, chunkingStrategy } },
      );
    gateway.resetUpstreamCalls();
    const tooSmall = await attach({ static: { maxChunkSizeTokens: 50, chunkOverlapTokens: 0 } });
    expect(tooSmall.data!.attachFile).toMatchObject({
      __typename: 'InvalidInputError',
      field: 'input.chunkingStrategy.static.maxChunkSizeTokens',
    });
    const overlapping = await attach({ static: { maxChunkSizeTokens: 300, chunkOverlapTokens: 200 } });
    expect(overlapping.data!.attachFile).toMatchObject({
      field: 'input.chunkingStrategy.static.chunkOverlapTokens',
    });
    expect(gateway.upstreamCalls()).toBe(0);

    const attached = await attach({ static: { maxChunkSizeTokens: 300, chunkOverlapTokens: 150 } });
    expect(attached.data!.attachFile).toEqual({
      __typename: 'AttachFilePayload',
      vectorStoreFile: {
        openaiId: fileId,
        attributes: { year: 2026 },
        chunkingStrategy: { maxChunkSizeTokens: 300 },
      },
    });
    expect(gateway.emulator.stats().requests.at(-1)).toMatchObject({
      route: 'POST /v1/vector_stores/{vector_store_id}/files',
      body: {
        file_id: fileId,
        attributes: { year: 2026 },
        chunking_strategy: {
          type: 'static',
          static: { max_chunk_size_tokens: 300, chunk_overlap_tokens: 150 },
        },
      },
    });
  });
});
