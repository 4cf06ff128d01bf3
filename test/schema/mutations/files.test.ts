import { parse } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { estimateUpstreamCalls } from '../../../src/schema/cost.ts';
import { encodeGlobalId } from '../../../src/schema/ids.ts';
import { schema } from '../../../src/schema/index.ts';
import { createGateway, seedStore, type TestGateway, uploadTextFiles } from '../../support/gateway.ts';

let gateway: TestGateway;
afterEach(() => gateway.close());

const DELETE_FILES = `mutation ($input: DeleteFilesInput!) {
  deleteFiles(input: $input) {
    __typename
    ... on MutationError { message }
    ... on InvalidInputError { field }
    ... on DeleteFilesPayload {
      deletedIds deletedOpenaiIds
      failures { index openaiFileId stage code message }
    }
  }
}`;

type Payload = {
  __typename: string;
  field?: string;
  message?: string;
  deletedIds?: string[];
  deletedOpenaiIds?: string[];
  failures?: Array<Record<string, unknown>>;
};

async function deleteFiles(fileIds: unknown[]): Promise<Payload> {
  const variables = { input: { fileIds } };
  const estimate = estimateUpstreamCalls({ schema, document: parse(DELETE_FILES), variables });
  gateway.resetUpstreamCalls();
  const result = await gateway.graphql<{ deleteFiles: Payload }>(DELETE_FILES, variables);
  expect(result.errors).toBeUndefined();
  expect(estimate).not.toBeNull();
  expect(gateway.upstreamCalls()).toBeLessThanOrEqual(estimate!);
  return result.data!.deleteFiles;
}

describe('deleteFiles', () => {
  it('deletes each File once, by raw or global id, and answers for the missing one by position', async () => {
    gateway = await createGateway();
    const [a, b, c] = await uploadTextFiles(gateway.openai, 3);
    const keep = (await uploadTextFiles(gateway.openai, 1, 'keep'))[0]!;

    const payload = await deleteFiles([a, encodeGlobalId('File', b!), 'file-gone0000000000', a, c]);

    expect(payload.deletedOpenaiIds).toEqual([a, b, c]);
    expect(payload.deletedIds).toEqual([a, b, c].map((id) => encodeGlobalId('File', id!)));
    expect(payload.failures).toEqual([
      {
        index: 2,
        openaiFileId: 'file-gone0000000000',
        stage: 'DELETE',
        code: 'NOT_FOUND',
        message: 'file-gone0000000000 was not deleted: no such file.',
      },
    ]);
    // Four distinct ids, four calls; the repeated one is not sent twice.
    expect(gateway.emulator.stats().byRoute).toEqual({ 'DELETE /v1/files/{file_id}': 4 });
    expect((await gateway.openai.files.list()).data.map((file) => file.id)).toEqual([keep]);
  });

  it('takes the File out of the stores it was in', async () => {
    gateway = await createGateway();
    const { storeId, fileIds } = await seedStore(gateway.openai, { files: 2 });

    const payload = await deleteFiles([fileIds[0]]);

    expect(payload.deletedOpenaiIds).toEqual([fileIds[0]]);
    const left = await gateway.openai.vectorStores.files.list(storeId);
    expect(left.data.map((file) => file.id)).toEqual([fileIds[1]]);
  });

  it('refuses a bad list whole, before any call', async () => {
    gateway = await createGateway();
    const tooMany = Array.from({ length: 101 }, (_, i) => `file-${String(i).padStart(12, '0')}`);
    for (const [fileIds, field] of [
      [[], 'input.fileIds'],
      [tooMany, 'input.fileIds'],
      [['file-ok000000000000', 'vs_notafile'], 'input.fileIds[1]'],
    ] as const) {
      const payload = await deleteFiles([...fileIds]);
      expect(payload).toMatchObject({ __typename: 'InvalidInputError', field });
      expect(gateway.upstreamCalls()).toBe(0);
    }
  });
});
