import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeGlobalId } from '../../../src/schema/ids.ts';
import { seedStore, startGateway, type TestGateway } from '../../support/gateway.ts';
import { UPLOAD_FILES, type UploadFilesData, uploadWithFormData } from '../../support/multipart.ts';

let gateway: TestGateway;
let storeId: string;
let fileId: string;
const OTHER_STORE = 'vs_0123456789abcdef0123456789abcdef';

beforeAll(async () => {
  // The input rules are what is tested here; a list past them is also past the default
  // upstream-call limit, which would otherwise answer first.
  gateway = await startGateway({ app: { limits: { maxUpstreamCalls: 100_000 } } });
  const seeded = await seedStore(gateway.openai, { files: 1 });
  storeId = seeded.storeId;
  fileId = seeded.fileIds[0]!;
});
afterAll(() => gateway.close());
beforeEach(() => gateway.resetUpstreamCalls());

const INPUT_TYPES: Record<string, string> = {
  createVectorStore: 'CreateVectorStoreInput',
  updateVectorStore: 'UpdateVectorStoreInput',
  deleteVectorStore: 'DeleteVectorStoreInput',
  addFiles: 'AddFilesInput',
  removeFiles: 'RemoveFilesInput',
  updateVectorStoreFile: 'UpdateVectorStoreFileInput',
  cancelFileBatch: 'CancelFileBatchInput',
  uploadFiles: 'UploadFilesInput',
};

async function run(mutation: string, input: Record<string, unknown>) {
  const result = await gateway.graphql<
    Record<string, { __typename: string; field?: string; path?: string[]; message?: string }>
  >(
    `mutation ($input: ${INPUT_TYPES[mutation]}!) {
      result: ${mutation}(input: $input) {
        __typename
        ... on InvalidInputError { field path message }
      }
    }`,
    { input },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.result!;
}

const manyPairs = (count: number, value: unknown = 'v') =>
  Object.fromEntries(Array.from({ length: count }, (_, index) => [`key${index}`, value]));
const longKey = 'k'.repeat(65);
const fileIds = (count: number) =>
  Array.from({ length: count }, (_, index) => `file-${String(index).padStart(8, 'x')}`);

/** [rule, mutation, input (store and file ids filled in later), expected field]. */
const CASES: Array<
  [string, string, (ids: { store: string; file: string }) => Record<string, unknown>, string]
> = [
  [
    'metadata has at most 16 keys',
    'createVectorStore',
    () => ({ metadata: manyPairs(17) }),
    'input.metadata',
  ],
  [
    'metadata keys have at most 64 characters',
    'createVectorStore',
    () => ({ metadata: { [longKey]: 'v' } }),
    `input.metadata.${longKey}`,
  ],
  [
    'metadata values are strings',
    'createVectorStore',
    () => ({ metadata: { count: 3 } }),
    'input.metadata.count',
  ],
  [
    'metadata values have at most 512 characters',
    'createVectorStore',
    () => ({ metadata: { note: 'n'.repeat(513) } }),
    'input.metadata.note',
  ],
  [
    'expiresAfter.days is at least 1',
    'createVectorStore',
    () => ({ expiresAfter: { days: 0 } }),
    'input.expiresAfter.days',
  ],
  [
    'expiresAfter.days is at most 365',
    'createVectorStore',
    () => ({ expiresAfter: { anchor: 'last_active_at', days: 366 } }),
    'input.expiresAfter.days',
  ],
  [
    'expiresAfter.anchor is last_active_at',
    'createVectorStore',
    () => ({ expiresAfter: { anchor: 'created_at', days: 7 } }),
    'input.expiresAfter.anchor',
  ],
  [
    'a new store takes at most 500 file ids',
    'createVectorStore',
    () => ({ fileIds: fileIds(501) }),
    'input.fileIds',
  ],
  [
    'file ids name files, not stores',
    'createVectorStore',
    ({ file, store }) => ({ fileIds: [file, file, file, store] }),
    'input.fileIds[3]',
  ],
  ['an update names a store', 'updateVectorStore', ({ file }) => ({ id: file, name: 'x' }), 'input.id'],
  [
    'update: metadata values have at most 512 characters',
    'updateVectorStore',
    ({ store }) => ({ id: store, metadata: { k: 'v'.repeat(513) } }),
    'input.metadata.k',
  ],
  [
    'update: expiresAfter.days is at most 365',
    'updateVectorStore',
    ({ store }) => ({ id: store, expiresAfter: { days: 400 } }),
    'input.expiresAfter.days',
  ],
  ['a delete names a store', 'deleteVectorStore', () => ({ id: 'not-an-id' }), 'input.id'],
  [
    'addFiles takes at least one file id',
    'addFiles',
    ({ store }) => ({ vectorStoreId: store, fileIds: [] }),
    'input.fileIds',
  ],
  [
    'addFiles takes at most 10000 file ids',
    'addFiles',
    ({ store }) => ({ vectorStoreId: store, fileIds: fileIds(10_001) }),
    'input.fileIds',
  ],
  [
    'addFiles: every file id is well-formed',
    'addFiles',
    ({ store, file }) => ({ vectorStoreId: store, fileIds: [file, 'file id?'] }),
    'input.fileIds[1]',
  ],
  [
    'addFiles names a store',
    'addFiles',
    ({ file }) => ({ vectorStoreId: file, fileIds: [file] }),
    'input.vectorStoreId',
  ],
  [
    'attributes have at most 16 keys',
    'addFiles',
    ({ store, file }) => ({ vectorStoreId: store, fileIds: [file], attributes: manyPairs(17, 1) }),
    'input.attributes',
  ],
  [
    'attribute keys have at most 64 characters',
    'addFiles',
    ({ store, file }) => ({ vectorStoreId: store, fileIds: [file], attributes: { [longKey]: true } }),
    `input.attributes.${longKey}`,
  ],
  [
    'attribute strings have at most 512 characters',
    'addFiles',
    ({ store, file }) => ({ vectorStoreId: store, fileIds: [file], attributes: { title: 't'.repeat(513) } }),
    'input.attributes.title',
  ],
  [
    'attribute values are strings, numbers or booleans',
    'addFiles',
    ({ store, file }) => ({ vectorStoreId: store, fileIds: [file], attributes: { nested: { a: 1 } } }),
    'input.attributes.nested',
  ],
  [
    'removeFiles takes at most 100 file ids',
    'removeFiles',
    ({ store }) => ({ vectorStoreId: store, fileIds: fileIds(101) }),
    'input.fileIds',
  ],
  [
    'removeFiles: a store file id belongs to that store',
    'removeFiles',
    ({ store, file }) => ({
      vectorStoreId: store,
      fileIds: [encodeGlobalId('VectorStoreFile', `${OTHER_STORE}:${file}`)],
    }),
    'input.fileIds[0]',
  ],
  [
    'updateVectorStoreFile: attribute values are not null',
    'updateVectorStoreFile',
    ({ store, file }) => ({ vectorStoreId: store, fileId: file, attributes: { x: null } }),
    'input.attributes.x',
  ],
  [
    'updateVectorStoreFile names a file',
    'updateVectorStoreFile',
    ({ store }) => ({ vectorStoreId: store, fileId: store, attributes: {} }),
    'input.fileId',
  ],
  [
    'cancelFileBatch names a batch',
    'cancelFileBatch',
    ({ store, file }) => ({ vectorStoreId: store, batchId: file }),
    'input.batchId',
  ],
  [
    'cancelFileBatch: the batch belongs to that store',
    'cancelFileBatch',
    ({ store }) => ({
      vectorStoreId: store,
      batchId: encodeGlobalId('FileBatch', `${OTHER_STORE}:vsfb_abc`),
    }),
    'input.batchId',
  ],
  [
    'uploadFiles takes at least one file',
    'uploadFiles',
    ({ store }) => ({ vectorStoreId: store, files: [] }),
    'input.files',
  ],
];

describe('input validation, before any upstream call', () => {
  it.each(CASES)('%s (%s)', async (_rule, mutation, input, field) => {
    const result = await run(mutation, input({ store: storeId, file: fileId }));
    expect(result).toMatchObject({ __typename: 'InvalidInputError', field });
    expect(result.path).toEqual(field.split(/[.[\]]+/).filter(Boolean));
    expect(result.message).toBeTruthy();
    expect(gateway.upstreamCalls()).toBe(0);
  });

  it('refuses invalid attributes of an upload before streaming anything, and drains the files', async () => {
    const result = await uploadWithFormData(
      gateway,
      { vectorStoreId: storeId, attributes: { lang: ['en'] } },
      [
        { name: 'a.txt', content: 'a'.repeat(100_000) },
        { name: 'b.txt', content: 'b'.repeat(100_000) },
      ],
      UPLOAD_FILES,
    );
    expect((result.data as UploadFilesData).uploadFiles).toMatchObject({
      __typename: 'InvalidInputError',
      field: 'input.attributes.lang',
      path: ['input', 'attributes', 'lang'],
    });
    expect(gateway.upstreamCalls()).toBe(0);
  });

  it('names the first offending field and says what the rule is', async () => {
    const result = await run('createVectorStore', { metadata: { ok: 'fine', note: 'n'.repeat(600) } });
    expect(result.message).toBe('`input.metadata.note` has 600 characters; at most 512 are allowed.');
  });
});
