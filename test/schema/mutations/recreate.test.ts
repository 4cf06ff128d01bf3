import { parse } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { estimateUpstreamCalls } from '../../../src/schema/cost.ts';
import { schema } from '../../../src/schema/index.ts';
import { createGateway, type TestGateway, uploadTextFiles } from '../../support/gateway.ts';

let gateway: TestGateway;
afterEach(() => gateway.close());

const RECREATE = `mutation ($input: RecreateVectorStoreInput!) {
  recreateVectorStore(input: $input) {
    __typename
    ... on RecreateVectorStorePayload {
      vectorStore { openaiId name status metadata fileCounts { total completed } }
      files { openaiId attributes chunkingStrategy { type maxChunkSizeTokens chunkOverlapTokens } }
      failures { index openaiFileId stage code }
    }
    ... on InvalidInputError { field message }
    ... on NotFoundError { field }
    ... on MutationError { message }
  }
}`;

type Recreated = {
  __typename: string;
  field?: string;
  message?: string;
  vectorStore?: { openaiId: string; name: string; status: string; metadata: unknown; fileCounts: unknown };
  files?: Array<{ openaiId: string; attributes: unknown; chunkingStrategy: unknown }>;
  failures?: unknown[];
};

async function recreate(input: Record<string, unknown>): Promise<Recreated> {
  const variables = { input };
  const estimate = estimateUpstreamCalls({ schema, document: parse(RECREATE), variables });
  gateway.resetUpstreamCalls();
  const result = await gateway.graphql<{ recreateVectorStore: Recreated }>(RECREATE, variables);
  expect(result.errors).toBeUndefined();
  expect(gateway.upstreamCalls()).toBeLessThanOrEqual(estimate!);
  return result.data!.recreateVectorStore;
}

/** A store of three files, each with its own attributes, one chunked its own way; then expired. */
async function expiredStore(): Promise<{ storeId: string; fileIds: string[] }> {
  const fileIds = await uploadTextFiles(gateway.openai, 3, 'handbook');
  const store = await gateway.openai.vectorStores.create({
    name: 'Handbook',
    metadata: { team: 'hr' },
    expires_after: { anchor: 'last_active_at', days: 7 },
  });
  await gateway.openai.vectorStores.fileBatches.create(store.id, {
    files: [
      { file_id: fileIds[0]!, attributes: { chapter: 1, lang: 'en' } },
      {
        file_id: fileIds[1]!,
        attributes: { chapter: 2 },
        chunking_strategy: {
          type: 'static',
          static: { max_chunk_size_tokens: 300, chunk_overlap_tokens: 50 },
        },
      },
      { file_id: fileIds[2]! },
    ],
  });
  gateway.clock.advance(8 * 24 * 3600 * 1000);
  expect((await gateway.openai.vectorStores.retrieve(store.id)).status).toBe('expired');
  return { storeId: store.id, fileIds };
}

describe('recreateVectorStore', () => {
  it('rebuilds an expired store from its files, each with its attributes and chunking, without uploading', async () => {
    gateway = await createGateway();
    const { storeId, fileIds } = await expiredStore();

    const payload = await recreate({ from: storeId });

    expect(payload.__typename).toBe('RecreateVectorStorePayload');
    expect(payload.vectorStore).toMatchObject({
      name: 'Handbook',
      status: 'COMPLETED',
      metadata: { team: 'hr' },
      fileCounts: { total: 3, completed: 3 },
    });
    expect(payload.vectorStore!.openaiId).not.toBe(storeId);
    const auto = { type: 'STATIC', maxChunkSizeTokens: 800, chunkOverlapTokens: 400 };
    expect(payload.files).toEqual([
      { openaiId: fileIds[0], attributes: { chapter: 1, lang: 'en' }, chunkingStrategy: auto },
      {
        openaiId: fileIds[1],
        attributes: { chapter: 2 },
        chunkingStrategy: { type: 'STATIC', maxChunkSizeTokens: 300, chunkOverlapTokens: 50 },
      },
      { openaiId: fileIds[2], attributes: {}, chunkingStrategy: auto },
    ]);
    expect(payload.failures).toEqual([]);
    const created = await gateway.openai.vectorStores.retrieve(payload.vectorStore!.openaiId);
    expect(created.expires_after).toEqual({ anchor: 'last_active_at', days: 7 });
    // The Files were attached, not uploaded again.
    expect(gateway.emulator.stats().byRoute['POST /v1/files']).toBeUndefined();
    expect((await gateway.openai.files.list()).data).toHaveLength(3);
  });

  it('takes a new name, metadata and expiry instead of the source’s', async () => {
    gateway = await createGateway();
    const { storeId } = await expiredStore();

    const payload = await recreate({
      from: storeId,
      name: 'Handbook 2027',
      metadata: { team: 'people' },
      expiresAfter: { days: 30 },
    });

    expect(payload.vectorStore).toMatchObject({ name: 'Handbook 2027', metadata: { team: 'people' } });
    const created = await gateway.openai.vectorStores.retrieve(payload.vectorStore!.openaiId);
    expect(created.expires_after).toEqual({ anchor: 'last_active_at', days: 30 });
  });

  it('refuses a source larger than maxFiles, and a missing one, before creating anything', async () => {
    gateway = await createGateway();
    const { storeId } = await expiredStore();
    const storesBefore = (await gateway.openai.vectorStores.list()).data.length;

    expect(await recreate({ from: storeId, maxFiles: 2 })).toMatchObject({
      __typename: 'InvalidInputError',
      field: 'input.maxFiles',
    });
    expect(await recreate({ from: storeId, maxFiles: 2001 })).toMatchObject({
      __typename: 'InvalidInputError',
      field: 'input.maxFiles',
    });
    expect(await recreate({ from: 'vs_doesnotexist' })).toMatchObject({
      __typename: 'NotFoundError',
      field: 'input.from',
    });
    expect((await gateway.openai.vectorStores.list()).data).toHaveLength(storesBefore);
  });
});
