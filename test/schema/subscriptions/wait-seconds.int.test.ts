import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway, uploadTextFiles } from '../../support/gateway.ts';
import { uploadWithFormData } from '../../support/multipart.ts';
import { subscribe } from '../../support/sse.ts';

const BATCH_ROUTE = 'GET /v1/vector_stores/{vector_store_id}/file_batches/{batch_id}';

interface AddFilesData {
  addFiles: {
    __typename: string;
    waitOutcome?: string | null;
    fileBatch?: {
      id: string;
      status: string;
      fileCounts: { inProgress: number; completed: number; total: number };
    } | null;
    vectorStore?: { status: string; fileCounts: { inProgress: number; completed: number } } | null;
    files?: Array<{ status: string }>;
    field?: string;
    message?: string;
  };
}

const ADD_FILES = /* GraphQL */ `
  mutation Add($input: AddFilesInput!) {
    addFiles(input: $input) {
      __typename
      ... on AddFilesPayload {
        waitOutcome
        fileBatch { id status fileCounts { inProgress completed total } }
        vectorStore { status fileCounts { inProgress completed } }
        files { status }
      }
      ... on InvalidInputError { field message }
    }
  }`;

describe('waitSeconds on addFiles and uploadFiles', () => {
  let gateway: TestGateway;
  beforeEach(async () => {
    gateway = await startGateway({ emulator: { clock: { now: () => Date.now() } } });
  });
  afterEach(() => gateway.close());

  async function addFiles(files: number, waitSeconds?: number) {
    const store = await gateway.openai.vectorStores.create({ name: 'wait' });
    const fileIds = await uploadTextFiles(gateway.openai, files);
    const started = Date.now();
    const result = await gateway.graphql<AddFilesData>(ADD_FILES, {
      input: { vectorStoreId: store.id, fileIds, waitSeconds },
    });
    return { result, elapsed: Date.now() - started, storeId: store.id };
  }

  it('answers with completed counts once a quick batch has finished', async () => {
    gateway.emulator.setProcessing({ delayMs: 400 });
    const { result, elapsed } = await addFiles(3, 10);

    expect(result.errors).toBeUndefined();
    expect(result.data!.addFiles).toEqual({
      __typename: 'AddFilesPayload',
      waitOutcome: 'FINISHED',
      fileBatch: expect.objectContaining({
        status: 'COMPLETED',
        fileCounts: { inProgress: 0, completed: 3, total: 3 },
      }),
      vectorStore: { status: 'COMPLETED', fileCounts: { inProgress: 0, completed: 3 } },
      files: [{ status: 'COMPLETED' }, { status: 'COMPLETED' }, { status: 'COMPLETED' }],
    });
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(3000);
  });

  it('answers STILL_IN_PROGRESS at the limit for a batch that is held, with the counts of that moment', async () => {
    gateway.emulator.setProcessing({ hold: true });
    const { result, elapsed } = await addFiles(2, 1);

    expect(result.errors).toBeUndefined();
    expect(result.data!.addFiles).toMatchObject({
      waitOutcome: 'STILL_IN_PROGRESS',
      fileBatch: { status: 'IN_PROGRESS', fileCounts: { inProgress: 2, completed: 0, total: 2 } },
      vectorStore: { status: 'IN_PROGRESS' },
    });
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3000);
    expect(gateway.app.live.size).toBe(0);
  });

  it('does not wait unless asked, and refuses a wait out of range before attaching anything', async () => {
    gateway.emulator.setProcessing({ delayMs: 60_000 });
    const quick = await addFiles(1);
    expect(quick.result.data!.addFiles).toMatchObject({
      waitOutcome: null,
      fileBatch: { status: 'IN_PROGRESS' },
    });
    expect(quick.elapsed).toBeLessThan(1000);

    const refused = await addFiles(1, 31);
    expect(refused.result.data!.addFiles).toMatchObject({
      __typename: 'InvalidInputError',
      field: 'input.waitSeconds',
    });
    expect(gateway.emulator.stats().byRoute['POST /v1/vector_stores/{vector_store_id}/file_batches']).toBe(1);
  });

  it('shares the poller of a subscription to the same batch', async () => {
    gateway.emulator.setProcessing({ hold: true });
    const store = await gateway.openai.vectorStores.create({ name: 'shared' });
    const [fileId] = await uploadTextFiles(gateway.openai, 1);
    const waiting = gateway.graphql<AddFilesData>(ADD_FILES, {
      input: { vectorStoreId: store.id, fileIds: [fileId], waitSeconds: 2 },
    });
    // The mutation creates the batch and polls it; its poll names the batch.
    let batchId: string | undefined;
    while (!batchId) {
      await sleep(10);
      batchId = gateway.emulator
        .stats()
        .requests.find((request) => request.route === BATCH_ROUTE)
        ?.path.split('/')[5];
    }
    expect(gateway.app.live.size).toBe(1);
    const stream = subscribe(
      gateway.url,
      `subscription ($id: ID!, $store: ID) { fileBatch(id: $id, vectorStoreId: $store) { status } }`,
      { id: batchId, store: store.id },
    );
    expect(await stream.next()).toEqual({ data: { fileBatch: { status: 'IN_PROGRESS' } } });
    expect(gateway.app.live.size).toBe(1);
    stream.close();
    expect((await waiting).data!.addFiles.waitOutcome).toBe('STILL_IN_PROGRESS');
  });

  it('works on uploadFiles too', async () => {
    gateway.emulator.setProcessing({ delayMs: 300 });
    const storeId = (await gateway.openai.vectorStores.create({ name: 'upload and wait' })).id;
    const input = { vectorStoreId: storeId, waitSeconds: 10 };
    const result = await uploadWithFormData(
      gateway,
      input,
      [
        { name: 'a.txt', content: 'alpha' },
        { name: 'b.txt', content: 'beta' },
      ],
      /* GraphQL */ `
        mutation Upload($input: UploadFilesInput!) {
          uploadFiles(input: $input) {
            ... on UploadFilesPayload { waitOutcome fileBatch { status fileCounts { completed total } } }
          }
        }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.uploadFiles).toEqual({
      waitOutcome: 'FINISHED',
      fileBatch: { status: 'COMPLETED', fileCounts: { completed: 2, total: 2 } },
    });
  });
});
