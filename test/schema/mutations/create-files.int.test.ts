import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { UploadLimits } from '../../../src/uploads/parse.ts';
import { partedUploadCalls } from '../../../src/upstream/index.ts';
import { type GraphQLResponse, startGateway, type TestGateway } from '../../support/gateway.ts';
import {
  CLOSING,
  filePartHead,
  multipartHead,
  openMultipart,
  readJson,
  sendWithFormData,
  type TestFile,
  waitFor,
  writeSlowly,
} from '../../support/multipart.ts';

/**
 * `createFiles` end to end: the real SDK in the gateway, over real HTTP, against the emulator.
 * Thresholds and parts are a few hundred bytes here, so a file "too large for one POST" is small.
 */

let gateway: TestGateway;
afterEach(() => gateway.close());

const PART = 1000;
const SMALL: Partial<UploadLimits> = { partedUploadBytes: 2000, partBytes: PART };
const ROUTES = {
  files: 'POST /v1/files',
  create: 'POST /v1/uploads',
  part: 'POST /v1/uploads/{upload_id}/parts',
  complete: 'POST /v1/uploads/{upload_id}/complete',
  cancel: 'POST /v1/uploads/{upload_id}/cancel',
  delete: 'DELETE /v1/files/{file_id}',
};

const CREATE_FILES = `
  mutation Create($input: CreateFilesInput!) {
    createFiles(input: $input) {
      __typename
      ... on CreateFilesPayload {
        files { openaiId filename bytes purpose createdAt expiresAt }
        failures { index filename stage code message }
      }
      ... on MutationError { message }
      ... on InvalidInputError { field }
    }
  }
`;

interface CreateFilesData {
  createFiles: {
    __typename: string;
    message?: string;
    field?: string;
    files?: Array<{
      openaiId: string;
      filename: string;
      bytes: number;
      purpose: string;
      createdAt: string;
      expiresAt: string | null;
    }>;
    failures?: Array<{
      index: number;
      filename: string | null;
      stage: string;
      code: string;
      message: string;
    }>;
  };
}

type Answer = GraphQLResponse<CreateFilesData> & { extensions?: { cost?: { upstreamCalls: number } } };

interface Input {
  purpose: string;
  sizes?: number[];
  expiresAfterSeconds?: number;
}

/** A FormData client in the layout of Apollo's upload link. */
function createFiles(input: Input, files: readonly TestFile[]): Promise<Answer> {
  return sendWithFormData<CreateFilesData>(gateway, CREATE_FILES, input, files) as Promise<Answer>;
}

function routeCount(route: string): number {
  return gateway.emulator.stats().byRoute[route] ?? 0;
}

function recorded(route: string) {
  return gateway.emulator.stats().requests.filter((request) => request.route === route);
}

/** Bytes whose every part differs, so parts put together out of order would show. */
function patterned(bytes: number): Buffer {
  return Buffer.from(Array.from({ length: bytes }, (_, index) => 97 + (Math.floor(index / 100) % 26)));
}

describe('createFiles', () => {
  it('creates files of every purpose, with their expiry, through POST /files', async () => {
    gateway = await startGateway({ emulator: { recordRequests: true } });
    const purposes = {
      ASSISTANTS: 'assistants',
      BATCH: 'batch',
      FINE_TUNE: 'fine-tune',
      VISION: 'vision',
      USER_DATA: 'user_data',
      EVALS: 'evals',
    };
    for (const [purpose, raw] of Object.entries(purposes)) {
      const result = await createFiles({ purpose, expiresAfterSeconds: 7200 }, [
        { name: `${raw}.jsonl`, content: `{"purpose": "${raw}"}` },
      ]);
      const file = result.data?.createFiles.files?.[0];
      expect(result.data?.createFiles.failures, purpose).toEqual([]);
      expect(file).toMatchObject({ filename: `${raw}.jsonl`, purpose: raw, bytes: raw.length + 15 });
      expect(Date.parse(file!.expiresAt!) - Date.parse(file!.createdAt)).toBe(7_200_000);
      const stored = await gateway.openai.files.retrieve(file!.openaiId);
      expect(stored).toMatchObject({ purpose: raw, expires_at: stored.created_at + 7200 });
    }
    expect(recorded(ROUTES.files).map((request) => request.body)).toContainEqual({
      purpose: 'user_data',
      expires_after: { anchor: 'created_at', seconds: '7200' },
      file: 'user_data.jsonl',
    });
    expect(routeCount(ROUTES.create)).toBe(0);
    // Without an expiry, only batch files expire (the API's default).
    const plain = await createFiles({ purpose: 'USER_DATA' }, [{ name: 'plain.txt', content: 'no expiry' }]);
    expect(plain.data?.createFiles.files?.[0]?.expiresAt).toBeNull();
  });

  it('sends a file declared over the threshold in parts, completed in order with its md5', async () => {
    gateway = await startGateway({ emulator: { recordRequests: true }, app: { uploads: SMALL } });
    const big = patterned(2500);
    const result = await createFiles({ purpose: 'USER_DATA', sizes: [2500, 12], expiresAfterSeconds: 3600 }, [
      { name: 'big.bin', content: big, type: 'application/octet-stream' },
      { name: 'small.txt', content: 'twelve bytes' },
    ]);

    expect(result.data?.createFiles).toMatchObject({
      __typename: 'CreateFilesPayload',
      files: [
        { filename: 'big.bin', bytes: 2500, purpose: 'user_data' },
        { filename: 'small.txt', bytes: 12, purpose: 'user_data' },
      ],
      failures: [],
    });
    const [bigFile, smallFile] = result.data!.createFiles.files!;
    expect(Date.parse(bigFile!.expiresAt!) - Date.parse(bigFile!.createdAt)).toBe(3_600_000);
    // The big one went in 3 parts of at most 1000 bytes; the small one in one POST /files.
    expect(recorded(ROUTES.create).map((request) => request.body)).toEqual([
      {
        filename: 'big.bin',
        purpose: 'user_data',
        bytes: 2500,
        mime_type: 'application/octet-stream',
        expires_after: { anchor: 'created_at', seconds: 3600 },
      },
    ]);
    expect(routeCount(ROUTES.part)).toBe(3);
    const completion = recorded(ROUTES.complete)[0]?.body as { part_ids: string[]; md5: string };
    expect(completion.part_ids).toHaveLength(3);
    expect(completion.md5).toBe(createHash('md5').update(big).digest('hex'));
    expect(routeCount(ROUTES.files)).toBe(1);
    const stored = await gateway.openai.files.retrieve(bigFile!.openaiId);
    expect(stored.bytes).toBe(2500);
    const content = Buffer.from(await (await gateway.openai.files.content(bigFile!.openaiId)).arrayBuffer());
    expect(content.equals(big)).toBe(true);
    expect(smallFile?.openaiId).toMatch(/^file-/);
    expect(gateway.emulator.inspect()).toMatchObject({ openUploads: 0, files: 2, storedBytes: 2512 });
    // Priced per file by the way it went: a parted upload and a streamed POST.
    expect(result.extensions?.cost?.upstreamCalls).toBe(partedUploadCalls(2500, PART) + 3);
    expect(gateway.upstreamCalls()).toBeLessThanOrEqual(result.extensions!.cost!.upstreamCalls);
  });

  it('leaves no pending upload and no file when the client cuts the request mid-file', async () => {
    gateway = await startGateway({ app: { uploads: SMALL } });
    // Slow parts, so the cut lands while some are in flight.
    gateway.emulator.setFaults({ routes: { [ROUTES.part]: { latencyMs: 100 } } });
    const { req } = openMultipart(gateway);
    req.write(
      multipartHead(
        { input: { purpose: 'USER_DATA', sizes: [40, 10_000], files: [null, null] } },
        { first: ['variables.input.files.0'], second: ['variables.input.files.1'] },
        CREATE_FILES,
      ),
    );
    // The first file is created (POST /files) before the second is cut.
    req.write(`${filePartHead('first', 'done.txt')}${'d'.repeat(40)}\r\n`);
    req.write(filePartHead('second', 'cut.bin', 'application/octet-stream'));
    await waitFor(() => recorded(ROUTES.files).some((request) => request.status === 200));
    await writeSlowly(req, 3500, { chunk: 250, delayMs: 5 });
    await waitFor(() => routeCount(ROUTES.part) >= 2);
    req.destroy();

    await waitFor(() => routeCount(ROUTES.cancel) === 1 && gateway.emulator.inspect().files === 0, 5_000);
    await sleep(200);
    expect(gateway.emulator.inspect()).toMatchObject({ openUploads: 0, files: 0, storedBytes: 0 });
    expect(routeCount(ROUTES.complete)).toBe(0);
    // The file created before the cut was deleted: its client never learnt its id.
    expect(routeCount(ROUTES.delete)).toBe(1);
  });

  it('refuses a file whose bytes differ from its declared size, leaving nothing upstream', async () => {
    gateway = await startGateway({ app: { uploads: SMALL } });
    const result = await createFiles({ purpose: 'ASSISTANTS', sizes: [3000, 500, 700, 5] }, [
      { name: 'short-parted.bin', content: patterned(2500) },
      { name: 'long.txt', content: 'l'.repeat(600) },
      { name: 'short.txt', content: 's'.repeat(600) },
      { name: 'right.txt', content: 'right' },
    ]);

    expect(result.data?.createFiles.files?.map((file) => file.filename)).toEqual(['right.txt']);
    expect(result.data?.createFiles.failures).toEqual([
      {
        index: 0,
        filename: 'short-parted.bin',
        stage: 'UPLOAD',
        code: 'UPLOAD_SIZE_MISMATCH',
        message: '"short-parted.bin" was not uploaded: it has 2500 bytes, not the 3000 declared for it.',
      },
      expect.objectContaining({
        index: 1,
        code: 'UPLOAD_SIZE_MISMATCH',
        message: expect.stringContaining('larger than the 500 bytes'),
      }),
      expect.objectContaining({
        index: 2,
        code: 'UPLOAD_SIZE_MISMATCH',
        message: expect.stringContaining('600 bytes, not the 700'),
      }),
    ]);
    await waitFor(() => gateway.emulator.inspect().uploadsInFlight === 0);
    expect(gateway.emulator.inspect()).toMatchObject({ openUploads: 0, files: 1, storedBytes: 5 });
    expect(routeCount(ROUTES.cancel)).toBe(1);
    expect(routeCount(ROUTES.complete)).toBe(0);
    // The two streamed POSTs were cut before their end: no answer, nothing stored.
    expect(
      recorded(ROUTES.files)
        .map((request) => request.status)
        .sort(),
    ).toEqual([200, null, null]);
  });

  it('refuses a file declared over 8 GB, or too large with parts off, before a byte goes upstream', async () => {
    gateway = await startGateway({ app: { uploads: SMALL } });
    const result = await createFiles({ purpose: 'USER_DATA', sizes: [8 * 1024 ** 3 + 1] }, [
      { name: 'huge.bin', content: 'not really 8 GB' },
    ]);
    expect(result.data?.createFiles).toMatchObject({
      files: [],
      failures: [
        {
          index: 0,
          filename: 'huge.bin',
          code: 'FILE_TOO_LARGE',
          message: `"huge.bin" was not uploaded: its declared size of ${8 * 1024 ** 3 + 1} bytes is over the upload limit of ${8 * 1024 ** 3} bytes; nothing of it was sent.`,
        },
      ],
    });
    expect(result.extensions?.cost?.upstreamCalls).toBe(0);
    expect(gateway.upstreamCalls()).toBe(0);
    await gateway.close();

    gateway = await startGateway({ app: { uploads: { maxFileBytes: 1000, maxPartedFileBytes: 0 } } });
    const off = await createFiles({ purpose: 'USER_DATA', sizes: [5000, 3] }, [
      { name: 'big.bin', content: 'b'.repeat(5000) },
      { name: 'ok.txt', content: 'yes' },
    ]);
    expect(off.data?.createFiles.files?.map((file) => file.filename)).toEqual(['ok.txt']);
    expect(off.data?.createFiles.failures).toEqual([
      expect.objectContaining({
        index: 0,
        code: 'FILE_TOO_LARGE',
        message: expect.stringContaining('over the upload limit of 1000 bytes'),
      }),
    ]);
    expect(Object.keys(gateway.emulator.stats().byRoute)).toEqual([ROUTES.files]);
    expect(routeCount(ROUTES.files)).toBe(1);
  });

  it('fails an undeclared file past the POST /files limit at one byte over, and says to declare it', async () => {
    gateway = await startGateway({ app: { uploads: { ...SMALL, maxFileBytes: 1000 } } });
    const result = await createFiles({ purpose: 'USER_DATA' }, [
      { name: 'big.txt', content: 'b'.repeat(5000) },
    ]);
    expect(result.data?.createFiles.failures).toEqual([
      {
        index: 0,
        filename: 'big.txt',
        stage: 'UPLOAD',
        code: 'FILE_TOO_LARGE',
        message:
          '"big.txt" was not uploaded: it is larger than the upload limit of 1000 bytes. Declare its size in `sizes` to send files of up to 8589934592 bytes in parts.',
      },
    ]);
    await waitFor(() => gateway.emulator.inspect().uploadsInFlight === 0);
    expect(gateway.emulator.inspect()).toMatchObject({ files: 0, storedBytes: 0 });
  });

  it('refuses sizes that do not match the files and an expiry out of range, before any call', async () => {
    gateway = await startGateway({ app: { uploads: SMALL } });
    const cases: Array<[Input, string]> = [
      [{ purpose: 'USER_DATA', sizes: [1, 2] }, 'input.sizes'],
      [{ purpose: 'USER_DATA', sizes: [-1] }, 'input.sizes[0]'],
      [{ purpose: 'USER_DATA', expiresAfterSeconds: 60 }, 'input.expiresAfterSeconds'],
      [{ purpose: 'USER_DATA', expiresAfterSeconds: 2_592_001 }, 'input.expiresAfterSeconds'],
    ];
    for (const [input, field] of cases) {
      const result = await createFiles(input, [{ name: 'a.txt', content: 'a' }]);
      expect(result.data?.createFiles, JSON.stringify(input)).toMatchObject({
        __typename: 'InvalidInputError',
        field,
      });
    }
    expect(gateway.upstreamCalls()).toBe(0);
  });

  it('stays within its estimate on every path, and is refused when the estimate is over the limit', async () => {
    gateway = await startGateway({ app: { uploads: SMALL } });
    // A part fails: the upload is cancelled, within the price.
    gateway.emulator.setFaults({ routes: { [ROUTES.part]: { errorRate: 1, errorStatus: 503 } } });
    const failed = await createFiles({ purpose: 'USER_DATA', sizes: [2500] }, [
      { name: 'a.bin', content: patterned(2500) },
    ]);
    expect(failed.data?.createFiles.failures).toEqual([
      expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE' }),
    ]);
    expect(routeCount(ROUTES.cancel)).toBe(1);
    expect(gateway.upstreamCalls()).toBeLessThanOrEqual(failed.extensions!.cost!.upstreamCalls);
    expect(gateway.emulator.inspect()).toMatchObject({ openUploads: 0, storedBytes: 0 });
    await gateway.close();

    // A 10-part upload is priced 14 calls: over a limit of 10, it is refused before it starts.
    gateway = await startGateway({ app: { uploads: SMALL, limits: { maxUpstreamCalls: 10 } } });
    const form = await createFiles({ purpose: 'USER_DATA', sizes: [10 * PART] }, [
      { name: 'ten.bin', content: patterned(10 * PART) },
    ]);
    expect(form.data ?? null).toBeNull();
    expect(form.errors?.[0]).toMatchObject({
      message: 'Mutation would make up to 14 upstream calls; the limit is 10.',
      extensions: { code: 'QUERY_TOO_EXPENSIVE', cost: 14, limit: 10 },
    });
    expect(gateway.upstreamCalls()).toBe(0);
  });
});

describe('createFiles over a hand-written multipart body', () => {
  it('takes sizes from the variables of a request written in small chunks', async () => {
    gateway = await startGateway({ app: { uploads: SMALL } });
    const { req, response } = openMultipart(gateway);
    req.write(
      multipartHead(
        { input: { purpose: 'FINE_TUNE', sizes: [4200], files: [null] } },
        { 0: ['variables.input.files.0'] },
        CREATE_FILES,
      ),
    );
    req.write(filePartHead('0', 'train.jsonl', 'application/jsonl'));
    await writeSlowly(req, 4200, { chunk: 700, delayMs: 2, fill: '{"x":1}\n' });
    req.end(CLOSING);
    const body = await readJson<Answer>(await response);
    expect(body.data?.createFiles).toMatchObject({
      files: [{ filename: 'train.jsonl', bytes: 4200, purpose: 'fine-tune' }],
      failures: [],
    });
    expect(routeCount(ROUTES.part)).toBe(5);
  });
});
