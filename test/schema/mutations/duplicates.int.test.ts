import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTENT_HASH_ATTRIBUTE } from '../../../src/schema/files/duplicates.ts';
import { type GraphQLResponse, startGateway, type TestGateway } from '../../support/gateway.ts';
import { type TestFile, uploadWithFormData } from '../../support/multipart.ts';

let gateway: TestGateway;
afterEach(() => gateway.close());

const UPLOAD = `mutation ($input: UploadFilesInput!) {
  uploadFiles(input: $input) {
    __typename
    ... on UploadFilesPayload {
      files { openaiId attributes file { filename bytes } }
      alreadyPresent { index filename openaiFileId vectorStoreFile { openaiId status } }
      failures { index code message }
    }
    ... on InvalidInputError { field message }
    ... on MutationError { message }
  }
}`;

interface Uploaded {
  uploadFiles: {
    __typename: string;
    field?: string;
    message?: string;
    files?: Array<{
      openaiId: string;
      attributes: Record<string, unknown>;
      file: { filename: string; bytes: number };
    }>;
    alreadyPresent?: Array<{
      index: number;
      filename: string;
      openaiFileId: string;
      vectorStoreFile: { openaiId: string; status: string };
    }>;
    failures?: Array<{ index: number; code: string; message: string }>;
  };
}

async function upload(
  vectorStoreId: string,
  files: TestFile[],
  extra: Record<string, unknown> = {},
): Promise<Uploaded['uploadFiles']> {
  const result = (await uploadWithFormData(
    gateway,
    { vectorStoreId, ...extra },
    files,
    UPLOAD,
  )) as unknown as GraphQLResponse<Uploaded>;
  expect(result.errors).toBeUndefined();
  return result.data!.uploadFiles;
}

/** Spooled copies left on disk (this suite is the only one that spools). */
function spooled(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('vector-store-gateway-'));
}

function uploadsSeen(): number {
  return gateway.emulator.stats().byRoute['POST /v1/files'] ?? 0;
}

const manual = { name: 'manual.pdf', content: randomBytes(40_000) };
const faq = { name: 'faq.md', content: '# FAQ\nRefunds within 30 days.' };

describe('uploadFiles with duplicate detection', () => {
  it.each(['SAME_NAME_AND_SIZE', 'SAME_CONTENT'])(
    '%s: the same two files a second time send no byte upstream and point at the files already there',
    async (duplicates) => {
      gateway = await startGateway();
      const storeId = (await gateway.openai.vectorStores.create({ name: 'docs' })).id;

      const first = await upload(storeId, [manual, faq], { duplicates });
      expect(first.alreadyPresent).toEqual([]);
      expect(first.files?.map((file) => file.file.filename)).toEqual(['manual.pdf', 'faq.md']);
      const before = { files: uploadsSeen(), stored: gateway.emulator.inspect().storedBytes };

      const second = await upload(storeId, [manual, faq], { duplicates });

      expect(second.files).toEqual([]);
      expect(second.failures).toEqual([]);
      expect(second.alreadyPresent).toEqual(
        first.files!.map((file, index) => ({
          index,
          filename: file.file.filename,
          openaiFileId: file.openaiId,
          vectorStoreFile: { openaiId: file.openaiId, status: 'COMPLETED' },
        })),
      );
      // Not a byte went upstream the second time, and the store still holds two files.
      expect(uploadsSeen()).toBe(before.files);
      expect(gateway.emulator.inspect().storedBytes).toBe(before.stored);
      expect((await gateway.openai.vectorStores.retrieve(storeId)).file_counts.total).toBe(2);
      expect(spooled()).toEqual([]);
    },
  );

  it('SAME_NAME_AND_SIZE uploads a file whose name matches but whose size does not', async () => {
    gateway = await startGateway();
    const storeId = (await gateway.openai.vectorStores.create({ name: 'docs' })).id;
    await upload(storeId, [faq], { duplicates: 'SAME_NAME_AND_SIZE' });

    const edited = await upload(storeId, [{ name: 'faq.md', content: `${faq.content} Updated.` }, manual], {
      duplicates: 'SAME_NAME_AND_SIZE',
    });

    expect(edited.alreadyPresent).toEqual([]);
    expect(edited.files?.map((file) => [file.file.filename, file.file.bytes])).toEqual([
      ['faq.md', faq.content.length + 9],
      ['manual.pdf', manual.content.length],
    ]);
  });

  it('SAME_CONTENT finds the bytes under another name, and records each hash as an attribute', async () => {
    gateway = await startGateway();
    const storeId = (await gateway.openai.vectorStores.create({ name: 'docs' })).id;
    const first = await upload(storeId, [manual], {
      duplicates: 'SAME_CONTENT',
      attributes: { team: 'ops' },
    });
    expect(first.files?.[0]?.attributes).toEqual({
      team: 'ops',
      [CONTENT_HASH_ATTRIBUTE]: expect.stringMatching(/^[0-9a-f]{64}$/),
    });

    const renamed = await upload(storeId, [{ ...manual, name: 'manual-copy.pdf' }, faq], {
      duplicates: 'SAME_CONTENT',
    });

    expect(renamed.alreadyPresent?.map((present) => [present.index, present.openaiFileId])).toEqual([
      [0, first.files![0]!.openaiId],
    ]);
    expect(renamed.files?.map((file) => file.file.filename)).toEqual(['faq.md']);
  });

  it('does not count a copy whose processing failed', async () => {
    gateway = await startGateway();
    const storeId = (await gateway.openai.vectorStores.create({ name: 'docs' })).id;
    // The emulator fails files that hold no text to index.
    const empty = { name: 'empty.txt', content: '' };
    const first = await upload(storeId, [empty], { duplicates: 'SAME_NAME_AND_SIZE' });
    const failedId = first.files![0]!.openaiId;
    expect(
      (await gateway.openai.vectorStores.files.retrieve(failedId, { vector_store_id: storeId })).status,
    ).toBe('failed');

    const again = await upload(storeId, [empty], { duplicates: 'SAME_NAME_AND_SIZE' });

    expect(again.alreadyPresent).toEqual([]);
    expect(again.files).toHaveLength(1);
  });

  it('refuses an attribute set the hash needs, before any upload', async () => {
    gateway = await startGateway();
    const storeId = (await gateway.openai.vectorStores.create({ name: 'docs' })).id;
    const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v']));
    gateway.resetUpstreamCalls();

    for (const [attributes, field] of [
      [sixteen, 'input.attributes'],
      [{ [CONTENT_HASH_ATTRIBUTE]: 'mine' }, `input.attributes.${CONTENT_HASH_ATTRIBUTE}`],
    ] as const) {
      const refused = await upload(storeId, [faq], { duplicates: 'SAME_CONTENT', attributes });
      expect(refused).toMatchObject({ __typename: 'InvalidInputError', field });
    }
    expect(gateway.upstreamCalls()).toBe(0);
  });
});
