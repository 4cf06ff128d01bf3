import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeGlobalId } from '../../../src/schema/ids.ts';
import { createGateway, seedStore, type TestGateway, uploadTextFiles } from '../../support/gateway.ts';

let gateway: TestGateway;
afterEach(() => gateway.close());

const ERRORS = `
  __typename
  ... on MutationError { message }
  ... on InvalidInputError { field }
  ... on NotFoundError { field }
`;

const ADD_FILES = `mutation ($input: AddFilesInput!) {
  addFiles(input: $input) {
    ${ERRORS}
    ... on AddFilesPayload {
      vectorStore { fileCounts { total completed inProgress } }
      fileBatch { openaiId fileCounts { total } }
      fileBatches { fileCounts { total } }
      files { openaiId status attributes }
      failures { index fileId openaiFileId stage code message }
    }
  }
}`;

const REMOVE_FILES = `mutation ($input: RemoveFilesInput!) {
  removeFiles(input: $input) {
    ${ERRORS}
    ... on RemoveFilesPayload {
      vectorStore { fileCounts { total } }
      removedIds deletedFileIds
      failures { index openaiFileId stage code message }
    }
  }
}`;

type Result = Record<string, unknown> & { __typename: string };

async function mutate(query: string, input: Record<string, unknown>): Promise<Result> {
  const result = await gateway.graphql<Record<string, Result>>(query, { input });
  expect(result.errors).toBeUndefined();
  return Object.values(result.data!)[0]!;
}

/** Many small files fast: the SDK against the emulator, 16 at a time. */
async function uploadMany(openai: OpenAI, count: number): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let index = next++; index < count; index = next++) {
        const file = await openai.files.create({
          file: await toFile(Buffer.from(`note ${index}`), `n${index}.txt`),
          purpose: 'assistants',
        });
        ids[index] = file.id;
      }
    }),
  );
  return ids;
}

describe('addFiles', () => {
  it('attaches existing files with attributes in one batch, answering a missing one by position', async () => {
    gateway = await createGateway();
    const { storeId } = await seedStore(gateway.openai, { files: 0 });
    const fileIds = await uploadTextFiles(gateway.openai, 2);
    gateway.resetUpstreamCalls();

    const result = await mutate(ADD_FILES, {
      vectorStoreId: encodeGlobalId('VectorStore', storeId),
      fileIds: [fileIds[0], 'file-doesnotexist000000000', encodeGlobalId('File', fileIds[1]!), fileIds[0]],
      attributes: { lang: 'en', year: 2026, draft: false },
    });

    expect(result).toMatchObject({
      __typename: 'AddFilesPayload',
      vectorStore: { fileCounts: { total: 2, completed: 2 } },
      fileBatch: { fileCounts: { total: 2 } },
      failures: [
        {
          index: 1,
          openaiFileId: 'file-doesnotexist000000000',
          fileId: encodeGlobalId('File', 'file-doesnotexist000000000'),
          stage: 'ATTACH',
          code: 'NOT_FOUND',
          message: 'file-doesnotexist000000000 was not attached: no such file.',
        },
      ],
    });
    expect(result.files).toEqual(
      fileIds.map((id) => ({
        openaiId: id,
        status: 'COMPLETED',
        attributes: { lang: 'en', year: 2026, draft: false },
      })),
    );
    const { byRoute } = gateway.emulator.stats();
    // Which files exist is read first, in one listing (a single id would be one retrieve), so the
    // missing one never reaches the batch.
    expect(byRoute['GET /v1/files']).toBe(1);
    expect(byRoute['GET /v1/files/{file_id}']).toBeUndefined();
    expect(byRoute['POST /v1/vector_stores/{vector_store_id}/file_batches']).toBe(1);
  });

  it('splits more than 2000 files over several batches', { timeout: 120_000 }, async () => {
    gateway = await createGateway();
    const { storeId } = await seedStore(gateway.openai, { files: 0 });
    const fileIds = await uploadMany(gateway.openai, 2001);
    gateway.resetUpstreamCalls();

    const result = await gateway.graphql<{ addFiles: Result }>(
      `mutation ($input: AddFilesInput!) {
        addFiles(input: $input) {
          ... on AddFilesPayload {
            vectorStore { fileCounts { total } }
            fileBatches { fileCounts { total } }
            failures { code }
          }
        }
      }`,
      { input: { vectorStoreId: storeId, fileIds } },
    );

    expect(result.data?.addFiles).toEqual({
      vectorStore: { fileCounts: { total: 2001 } },
      fileBatches: [{ fileCounts: { total: 2000 } }, { fileCounts: { total: 1 } }],
      failures: [],
    });
    expect(gateway.emulator.stats().byRoute['POST /v1/vector_stores/{vector_store_id}/file_batches']).toBe(2);
  });

  it('answers NotFoundError for a store that does not exist, and attaches nothing', async () => {
    gateway = await createGateway();
    const fileIds = await uploadTextFiles(gateway.openai, 1);
    const result = await mutate(ADD_FILES, { vectorStoreId: 'vs_0000000000000000000000000000dead', fileIds });
    expect(result).toMatchObject({ __typename: 'NotFoundError', field: 'input.vectorStoreId' });
    expect(
      gateway.emulator.stats().byRoute['POST /v1/vector_stores/{vector_store_id}/file_batches'],
    ).toBeUndefined();
  });

  it('answers per file when OpenAI refuses the whole batch (here: the store expired)', async () => {
    gateway = await createGateway();
    const store = await gateway.openai.vectorStores.create({
      expires_after: { anchor: 'last_active_at', days: 1 },
    });
    const fileIds = await uploadTextFiles(gateway.openai, 2);
    gateway.clock.advance(2 * 86_400_000);
    const result = await mutate(ADD_FILES, { vectorStoreId: store.id, fileIds });
    expect(result.failures).toEqual([
      expect.objectContaining({ index: 0, stage: 'ATTACH', code: 'UPSTREAM_REJECTED' }),
      expect.objectContaining({ index: 1, stage: 'ATTACH', code: 'UPSTREAM_REJECTED' }),
    ]);
    expect(result.files).toEqual([]);
    expect(gateway.emulator.stats().byRoute['POST /v1/vector_stores/{vector_store_id}/file_batches']).toBe(1);
  });
});

describe('removeFiles', () => {
  it('detaches the files and keeps them, answering one that is not in the store', async () => {
    gateway = await createGateway();
    const { storeId, fileIds } = await seedStore(gateway.openai, { files: 3 });
    const [stranger] = await uploadTextFiles(gateway.openai, 1, 'other');

    const result = await mutate(REMOVE_FILES, {
      vectorStoreId: storeId,
      fileIds: [encodeGlobalId('VectorStoreFile', `${storeId}:${fileIds[0]}`), stranger, fileIds[1]],
    });

    expect(result).toMatchObject({
      vectorStore: { fileCounts: { total: 1 } },
      removedIds: [fileIds[0], fileIds[1]].map((id) => encodeGlobalId('VectorStoreFile', `${storeId}:${id}`)),
      deletedFileIds: [],
      failures: [{ index: 1, openaiFileId: stranger, stage: 'DETACH', code: 'NOT_FOUND' }],
    });
    expect((result.failures as Array<{ message: string }>)[0]!.message).toBe(
      `${stranger} was not removed from the store: it is not in this vector store.`,
    );
    expect(gateway.emulator.inspect().files).toBe(4);
  });

  it('with deleteFiles, detaches and then deletes the Files', async () => {
    gateway = await createGateway();
    const { storeId, fileIds } = await seedStore(gateway.openai, { files: 2 });
    gateway.resetUpstreamCalls();
    const result = await mutate(REMOVE_FILES, { vectorStoreId: storeId, fileIds, deleteFiles: true });
    expect(result).toMatchObject({
      vectorStore: { fileCounts: { total: 0 } },
      deletedFileIds: fileIds.map((id) => encodeGlobalId('File', id)),
      failures: [],
    });
    const { requests } = gateway.emulator.stats();
    for (const id of fileIds) {
      const detach = requests.findIndex(
        (r) => r.method === 'DELETE' && r.path.endsWith(`/vector_stores/${storeId}/files/${id}`),
      );
      const remove = requests.findIndex((r) => r.method === 'DELETE' && r.path === `/v1/files/${id}`);
      expect(detach).toBeGreaterThanOrEqual(0);
      expect(remove).toBeGreaterThan(detach);
    }
    expect(gateway.emulator.inspect().files).toBe(0);
  });

  it('answers NotFoundError for a store that does not exist', async () => {
    gateway = await createGateway();
    const [file] = await uploadTextFiles(gateway.openai, 1);
    const result = await mutate(REMOVE_FILES, {
      vectorStoreId: 'vs_0000000000000000000000000000dead',
      fileIds: [file],
    });
    expect(result).toMatchObject({ __typename: 'NotFoundError', field: 'input.vectorStoreId' });
  });
});

describe('updateVectorStoreFile', () => {
  const UPDATE = `mutation ($input: UpdateVectorStoreFileInput!) {
    updateVectorStoreFile(input: $input) {
      ${ERRORS}
      ... on UpdateVectorStoreFilePayload { vectorStoreFile { id openaiId attributes } }
    }
  }`;

  it('replaces the attributes, which search filters then match', async () => {
    gateway = await createGateway();
    const { storeId, fileIds } = await seedStore(gateway.openai, { files: 2, attributes: { lang: 'de' } });
    const result = await mutate(UPDATE, {
      vectorStoreId: storeId,
      fileId: fileIds[0],
      attributes: { lang: 'en' },
    });
    expect(result).toMatchObject({ vectorStoreFile: { openaiId: fileIds[0], attributes: { lang: 'en' } } });
    const search = await gateway.graphql<{ vectorStore: { search: Array<{ file: { openaiId: string } }> } }>(
      `{ vectorStore(id: "${storeId}") { search(query: "notes", filters: { type: "eq", key: "lang", value: "en" }) { file { openaiId } } } }`,
    );
    expect(search.data?.vectorStore.search.map((hit) => hit.file.openaiId)).toEqual([fileIds[0]]);
  });

  it('answers NotFoundError for a file that is not in the store', async () => {
    gateway = await createGateway();
    const { storeId } = await seedStore(gateway.openai, { files: 0 });
    const [file] = await uploadTextFiles(gateway.openai, 1);
    const result = await mutate(UPDATE, { vectorStoreId: storeId, fileId: file, attributes: {} });
    expect(result).toMatchObject({ __typename: 'NotFoundError', field: 'input.fileId' });
  });
});

describe('cancelFileBatch', () => {
  const CANCEL = `mutation ($input: CancelFileBatchInput!) {
    cancelFileBatch(input: $input) {
      ${ERRORS}
      ... on CancelFileBatchPayload { fileBatch { id status fileCounts { cancelled inProgress total } vectorStore { fileCounts { cancelled } } } }
    }
  }`;

  it('cancels a batch still in progress, by raw or global id', async () => {
    gateway = await createGateway();
    const { storeId } = await seedStore(gateway.openai, { files: 0 });
    const fileIds = await uploadTextFiles(gateway.openai, 2);
    gateway.emulator.setProcessing({ hold: true });
    const batch = await gateway.openai.vectorStores.fileBatches.create(storeId, { file_ids: fileIds });

    const result = await mutate(CANCEL, { vectorStoreId: storeId, batchId: batch.id });
    expect(result).toMatchObject({
      fileBatch: {
        id: encodeGlobalId('FileBatch', `${storeId}:${batch.id}`),
        status: 'CANCELLED',
        fileCounts: { cancelled: 2, inProgress: 0, total: 2 },
        vectorStore: { fileCounts: { cancelled: 2 } },
      },
    });
    const again = await mutate(CANCEL, {
      vectorStoreId: storeId,
      batchId: encodeGlobalId('FileBatch', `${storeId}:${batch.id}`),
    });
    expect(again).toMatchObject({ fileBatch: { status: 'CANCELLED' } });
  });

  it('answers NotFoundError for a batch that does not exist', async () => {
    gateway = await createGateway();
    const { storeId } = await seedStore(gateway.openai, { files: 0 });
    const result = await mutate(CANCEL, {
      vectorStoreId: storeId,
      batchId: 'vsfb_0000000000000000000000000000dead',
    });
    expect(result).toMatchObject({ __typename: 'NotFoundError', field: 'input.batchId' });
  });
});
