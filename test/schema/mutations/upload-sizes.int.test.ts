import { afterEach, describe, expect, it } from 'vitest';
import { OPENAI_LIMITS } from '../../../src/upstream/index.ts';
import { startGateway, type TestGateway } from '../../support/gateway.ts';
import { uploadWithFormData, waitFor } from '../../support/multipart.ts';

/**
 * `uploadFiles` with declared sizes: a file larger than file search takes is refused from its
 * size alone, before any of it goes upstream, and a file whose bytes differ from its size is
 * refused with nothing left behind. The other files of the request go on.
 */

let gateway: TestGateway;
afterEach(() => gateway.close());

const FILES_ROUTE = 'POST /v1/files';

function filePosts() {
  return gateway.emulator.stats().requests.filter((request) => request.route === FILES_ROUTE);
}

async function newStore(): Promise<string> {
  return (await gateway.openai.vectorStores.create({ name: 'sized' })).id;
}

describe('uploadFiles with declared sizes', () => {
  it('refuses a file declared over 512 MB (a 600 MiB file) before a byte of it goes upstream', async () => {
    gateway = await startGateway();
    const vectorStoreId = await newStore();
    const declared = 600 * 1024 ** 2;
    const result = await uploadWithFormData(gateway, { vectorStoreId, sizes: [declared, 5] }, [
      // The declared size alone decides: the part the client sends is read and dropped.
      { name: 'archive.bin', content: Buffer.alloc(64 * 1024, 7) },
      { name: 'notes.txt', content: 'notes' },
    ]);
    const answer = result.data!.uploadFiles;
    expect(answer.__typename).toBe('UploadFilesPayload');
    expect(answer.files?.map((file) => file.file?.filename)).toEqual(['notes.txt']);
    expect(answer.failures).toEqual([
      expect.objectContaining({
        index: 0,
        filename: 'archive.bin',
        stage: 'UPLOAD',
        code: 'FILE_TOO_LARGE',
        message: `"archive.bin" was not uploaded: its declared size of ${declared} bytes is over the ${OPENAI_LIMITS.fileBytes} bytes a file attached to a vector store may have; nothing of it was sent. createFiles takes larger files for other purposes.`,
      }),
    ]);
    // One POST /files, of the 5 bytes of notes.txt.
    expect(filePosts()).toHaveLength(1);
    expect(gateway.emulator.inspect()).toMatchObject({ files: 1, storedBytes: 5 });
  });

  it('refuses a file whose bytes differ from its declared size, and deletes nothing it should keep', async () => {
    gateway = await startGateway();
    const vectorStoreId = await newStore();
    const result = await uploadWithFormData(gateway, { vectorStoreId, sizes: [10, 900, 5] }, [
      { name: 'longer.txt', content: 'x'.repeat(600) },
      { name: 'shorter.txt', content: 'y'.repeat(600) },
      { name: 'right.txt', content: 'right' },
    ]);
    const answer = result.data!.uploadFiles;
    expect(answer.files?.map((file) => file.file?.filename)).toEqual(['right.txt']);
    expect(answer.failures).toEqual([
      expect.objectContaining({
        index: 0,
        code: 'UPLOAD_SIZE_MISMATCH',
        message: expect.stringContaining('larger than the 10 bytes'),
      }),
      expect.objectContaining({
        index: 1,
        code: 'UPLOAD_SIZE_MISMATCH',
        message: expect.stringContaining('600 bytes, not the 900'),
      }),
    ]);
    // The two wrong files were cut before their end: OpenAI stored neither.
    await waitFor(() => gateway.emulator.inspect().uploadsInFlight === 0);
    expect(gateway.emulator.inspect()).toMatchObject({ files: 1, storedBytes: 5 });
    expect((await gateway.openai.vectorStores.files.list(vectorStoreId)).data).toHaveLength(1);
  });

  it('refuses a sizes list that does not describe the files, before any call', async () => {
    gateway = await startGateway();
    const vectorStoreId = await newStore();
    gateway.resetUpstreamCalls();
    for (const [sizes, field] of [
      [[1], 'input.sizes'],
      [[1, -2], 'input.sizes[1]'],
    ] as const) {
      const result = await uploadWithFormData(gateway, { vectorStoreId, sizes }, [
        { name: 'a.txt', content: 'a' },
        { name: 'b.txt', content: 'b' },
      ]);
      expect(result.data?.uploadFiles).toMatchObject({ __typename: 'InvalidInputError', field });
    }
    expect(gateway.upstreamCalls()).toBe(0);
  });
});
