import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type GraphQLResponse, startGateway, type TestGateway } from '../../support/gateway.ts';
import {
  CLOSING,
  filePartHead,
  multipartHead,
  openMultipart,
  readJson,
  UPLOAD_FILES,
  type UploadFilesData,
  uploadWithFormData,
  waitFor,
  writeSlowly,
} from '../../support/multipart.ts';

let gateway: TestGateway;
afterEach(() => gateway.close());

const UPLOAD_ROUTE = 'POST /v1/files';

function uploadAttempts(statuses?: Array<number | null>) {
  return gateway.emulator
    .stats()
    .requests.filter((r) => r.route === UPLOAD_ROUTE && (!statuses || statuses.includes(r.status)));
}

async function newStore(name = 'uploads'): Promise<string> {
  return (await gateway.openai.vectorStores.create({ name })).id;
}

describe('uploadFiles end to end (both servers on real ports)', () => {
  it('uploads 3 files through a FormData client in the Apollo upload-link layout, attaches them, and the store counts 3 completed', async () => {
    gateway = await startGateway();
    const storeId = await newStore();
    gateway.resetUpstreamCalls();

    const result = await uploadWithFormData(gateway, { vectorStoreId: storeId, attributes: { lang: 'en' } }, [
      { name: 'alpha.txt', content: 'alpha: refunds within 30 days' },
      { name: 'beta.md', content: '# beta\nshipping policy', type: 'text/markdown' },
      { name: 'gamma.txt', content: Buffer.from('gamma: warranty terms') },
    ]);

    const payload = result.data?.uploadFiles;
    expect(result.errors).toBeUndefined();
    expect(payload).toMatchObject({
      __typename: 'UploadFilesPayload',
      vectorStore: { openaiId: storeId, fileCounts: { completed: 3, inProgress: 0, failed: 0, total: 3 } },
      fileBatch: { status: 'COMPLETED', fileCounts: { total: 3, completed: 3 } },
      failures: [],
    });
    expect(payload?.files?.map((file) => [file.file?.filename, file.status, file.attributes])).toEqual([
      ['alpha.txt', 'COMPLETED', { lang: 'en' }],
      ['beta.md', 'COMPLETED', { lang: 'en' }],
      ['gamma.txt', 'COMPLETED', { lang: 'en' }],
    ]);

    // Upstream: 3 Files with the right bytes, all in the store, each POSTed once, one batch.
    const stored = await gateway.openai.files.list();
    expect(stored.data.map((file) => [file.filename, file.bytes]).sort()).toEqual([
      ['alpha.txt', 29],
      ['beta.md', 22],
      ['gamma.txt', 21],
    ]);
    const attached = await gateway.openai.vectorStores.files.list(storeId);
    expect(attached.data.map((file) => file.id).sort()).toEqual(stored.data.map((file) => file.id).sort());
    const { byRoute } = gateway.emulator.stats();
    expect(byRoute[UPLOAD_ROUTE]).toBe(3);
    expect(byRoute['POST /v1/vector_stores/{vector_store_id}/file_batches']).toBe(1);
    const content = await gateway.openai.files.content(
      stored.data.find((f) => f.filename === 'alpha.txt')!.id,
    );
    expect(await content.text()).toBe('alpha: refunds within 30 days');
  });

  it('takes a hand-built multipart body streamed in small chunks over http.request', async () => {
    gateway = await startGateway();
    const storeId = await newStore();
    const { req, response } = openMultipart(gateway);
    req.write(
      multipartHead(
        { input: { vectorStoreId: storeId, files: [null, null, null] } },
        {
          a: ['variables.input.files.0'],
          b: ['variables.input.files.1'],
          c: ['variables.input.files.2'],
        },
      ),
    );
    for (const [field, name] of [
      ['a', 'one.txt'],
      ['b', 'two.txt'],
      ['c', 'three.txt'],
    ] as const) {
      req.write(filePartHead(field, name));
      await writeSlowly(req, 3000, { chunk: 700, delayMs: 5, fill: `${name} ` });
      req.write('\r\n');
    }
    req.end(CLOSING.slice(2));
    const body = await readJson<GraphQLResponse<UploadFilesData>>(await response);

    expect(body.data?.uploadFiles).toMatchObject({
      __typename: 'UploadFilesPayload',
      vectorStore: { fileCounts: { completed: 3, total: 3 } },
      failures: [],
    });
    expect(body.data?.uploadFiles.files?.map((file) => [file.file?.filename, file.file?.bytes])).toEqual([
      ['one.txt', 3000],
      ['two.txt', 3000],
      ['three.txt', 3000],
    ]);
    expect(gateway.emulator.inspect()).toMatchObject({ files: 3, storedBytes: 9000 });
  });
});

describe('uploadFiles, per file', () => {
  it('reports a file over the limit by name, stores none of it, and still uploads the others', async () => {
    gateway = await startGateway({ app: { uploads: { maxFileBytes: 1000 } } });
    const storeId = await newStore();

    const result = await uploadWithFormData(gateway, { vectorStoreId: storeId }, [
      { name: 'small.txt', content: 'fits easily' },
      { name: 'big.txt', content: 'b'.repeat(5000) },
    ]);

    const payload = result.data?.uploadFiles;
    expect(payload?.files?.map((file) => file.file?.filename)).toEqual(['small.txt']);
    expect(payload?.failures).toEqual([
      {
        index: 1,
        filename: 'big.txt',
        fileId: null,
        openaiFileId: null,
        stage: 'UPLOAD',
        code: 'FILE_TOO_LARGE',
        message: '"big.txt" was not uploaded: it is larger than the upload limit of 1000 bytes.',
        retryAfter: null,
      },
    ]);
    expect(gateway.emulator.inspect()).toMatchObject({ files: 1, storedBytes: 'fits easily'.length });
  });

  it('stops a file that crosses the limit mid-stream: the upstream upload is cut, 0 bytes stored', async () => {
    gateway = await startGateway({ app: { uploads: { maxFileBytes: 1000 } } });
    const storeId = await newStore();
    const { req, response } = openMultipart(gateway);
    req.write(
      multipartHead({ input: { vectorStoreId: storeId, files: [null] } }, { 0: ['variables.input.files.0'] }),
    );
    req.write(filePartHead('0', 'slow-and-big.txt'));
    // Slowly, so the resolver is already streaming upstream when the limit is crossed.
    await writeSlowly(req, 5000, { chunk: 250, delayMs: 15 });
    req.end(CLOSING);
    const body = await readJson<GraphQLResponse<UploadFilesData>>(await response);

    expect(body.data?.uploadFiles.failures).toEqual([
      expect.objectContaining({ filename: 'slow-and-big.txt', code: 'FILE_TOO_LARGE', stage: 'UPLOAD' }),
    ]);
    expect(body.data?.uploadFiles.failures?.[0]?.message).toContain('1000 bytes');
    expect(body.data?.uploadFiles.files).toEqual([]);
    await waitFor(() => gateway.emulator.inspect().uploadsInFlight === 0);
    expect(gateway.emulator.inspect()).toMatchObject({ files: 0, storedBytes: 0 });
    // The upstream request started and was never completed (no closing boundary, no answer).
    expect(uploadAttempts().map((r) => r.status)).toEqual([null]);
    expect(
      gateway.emulator.stats().byRoute['POST /v1/vector_stores/{vector_store_id}/file_batches'],
    ).toBeUndefined();
  });

  it('answers the same upload given twice in one list once, and fails the repeat cleanly', async () => {
    gateway = await startGateway();
    const storeId = await newStore();
    const { req, response } = openMultipart(gateway);
    req.write(
      multipartHead(
        { input: { vectorStoreId: storeId, files: [null, null] } },
        {
          0: ['variables.input.files.0', 'variables.input.files.1'],
        },
      ),
    );
    req.end(`${filePartHead('0', 'twice.txt')}the same bytes${CLOSING}`);
    const body = await readJson<GraphQLResponse<UploadFilesData>>(await response);

    expect(body.data?.uploadFiles.files?.map((file) => file.file?.filename)).toEqual(['twice.txt']);
    expect(body.data?.uploadFiles.failures).toEqual([
      expect.objectContaining({ index: 1, filename: 'twice.txt', code: 'UPLOAD_REUSED', stage: 'UPLOAD' }),
    ]);
    expect(gateway.emulator.inspect().files).toBe(1);
  });

  it('fails the second of two fields that use the same upload, without hanging', async () => {
    gateway = await startGateway();
    const storeId = await newStore();
    const query = `mutation ($a: UploadFilesInput!, $b: UploadFilesInput!) {
      a: uploadFiles(input: $a) { ... on UploadFilesPayload { files { openaiId } failures { code filename } } }
      b: uploadFiles(input: $b) { ... on UploadFilesPayload { files { openaiId } failures { code filename } } }
    }`;
    const started = Date.now();
    const { req, response } = openMultipart(gateway);
    req.write(
      multipartHead(
        { a: { vectorStoreId: storeId, files: [null] }, b: { vectorStoreId: storeId, files: [null] } },
        { 0: ['variables.a.files.0', 'variables.b.files.0'] },
        query,
      ),
    );
    req.end(`${filePartHead('0', 'shared.txt')}shared bytes${CLOSING}`);
    const body = await readJson<
      GraphQLResponse<
        Record<'a' | 'b', { files: unknown[]; failures: Array<{ code: string; filename: string }> }>
      >
    >(await response);

    expect(Date.now() - started).toBeLessThan(2000);
    expect(body.data?.a).toMatchObject({ files: [expect.anything()], failures: [] });
    expect(body.data?.b).toEqual({
      files: [],
      failures: [{ code: 'UPLOAD_REUSED', filename: 'shared.txt' }],
    });
    expect(gateway.emulator.inspect().files).toBe(1);
  });

  it('answers NotFoundError for a store that does not exist, before streaming anything upstream', async () => {
    gateway = await startGateway();
    const result = await uploadWithFormData(gateway, { vectorStoreId: 'vs_doesnotexist0000000000000001' }, [
      { name: 'orphan.txt', content: 'x'.repeat(20_000) },
    ]);
    expect(result.data?.uploadFiles).toMatchObject({
      __typename: 'NotFoundError',
      field: 'input.vectorStoreId',
    });
    expect(uploadAttempts()).toEqual([]);
  });
});

describe('uploadFiles and clients that go away', () => {
  it('leaves no File upstream from 20 uploads aborted mid-stream', async () => {
    gateway = await startGateway();
    const storeId = await newStore();
    for (let round = 0; round < 20; round++) {
      const completedBefore = uploadAttempts([200]).length;
      const inFlightBefore = uploadAttempts([null]).length;
      const { req } = openMultipart(gateway);
      req.write(
        multipartHead(
          { input: { vectorStoreId: storeId, files: [null, null] } },
          {
            first: ['variables.input.files.0'],
            second: ['variables.input.files.1'],
          },
        ),
      );
      if (round % 2 === 1) {
        // Every other round the first file is complete (and stored upstream) before the cut.
        req.write(`${filePartHead('first', `done-${round}.txt`)}${'d'.repeat(2000)}\r\n`);
        req.write(filePartHead('second', `cut-${round}.txt`));
        await waitFor(() => uploadAttempts([200]).length > completedBefore);
      } else {
        req.write(filePartHead('first', `cut-${round}.txt`));
      }
      req.write('c'.repeat(300 + round * 97));
      // Cut while the gateway is streaming that file upstream.
      await waitFor(() => uploadAttempts([null]).length > inFlightBefore);
      req.destroy();
    }

    await waitFor(() => {
      const { files, uploadsInFlight } = gateway.emulator.inspect();
      return files === 0 && uploadsInFlight === 0;
    });
    await sleep(100);
    expect(gateway.emulator.inspect()).toMatchObject({ files: 0, storedBytes: 0 });
    const { byRoute } = gateway.emulator.stats();
    // The 10 files completed before their request was cut were deleted, not left behind.
    expect(uploadAttempts([200])).toHaveLength(10);
    expect(byRoute['DELETE /v1/files/{file_id}']).toBe(10);
    expect(byRoute['POST /v1/vector_stores/{vector_store_id}/file_batches']).toBeUndefined();
    expect((await gateway.openai.vectorStores.files.list(storeId)).data).toEqual([]);
  });

  it('deletes the uploaded files when the client goes away while they are being attached', async () => {
    gateway = await startGateway();
    const storeId = await newStore();
    const batchRoute = 'POST /v1/vector_stores/{vector_store_id}/file_batches';
    // The batch is applied upstream, but its answer never comes.
    gateway.emulator.setFaults({ routes: { [batchRoute]: { stall: 'body' } } });
    const { req } = openMultipart(gateway);
    req.write(
      multipartHead(
        { input: { vectorStoreId: storeId, files: [null, null] } },
        {
          0: ['variables.input.files.0'],
          1: ['variables.input.files.1'],
        },
      ),
    );
    req.write(
      `${filePartHead('0', 'one.txt')}first file\r\n${filePartHead('1', 'two.txt')}second file${CLOSING}`,
    );
    // The client leaves while the gateway waits for the answer to the batch.
    await waitFor(() => (gateway.emulator.stats().byRoute[batchRoute] ?? 0) === 1);
    await waitFor(() => gateway.emulator.inspect().vectorStores === 1);
    await sleep(50);
    expect((await gateway.openai.vectorStores.files.list(storeId)).data).toHaveLength(2);
    req.destroy();

    await waitFor(
      () =>
        gateway.emulator.inspect().files === 0 &&
        (gateway.emulator.stats().byRoute['DELETE /v1/files/{file_id}'] ?? 0) === 2,
    );
    await sleep(400);
    expect(gateway.emulator.inspect().files).toBe(0);
    expect((await gateway.openai.vectorStores.files.list(storeId)).data).toEqual([]);
  });
});

describe('uploadFiles over JSON', () => {
  it('needs the multipart request spec for its files', async () => {
    gateway = await startGateway();
    const storeId = await newStore();
    const result = await gateway.graphql(UPLOAD_FILES, {
      input: { vectorStoreId: storeId, files: ['not a file'] },
    });
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.message).toMatch(/Upload value invalid/);
    expect(uploadAttempts()).toEqual([]);
  });
});
