/**
 * The calls of openai-node v6.49.0's generated uploads tests (tests/api-resources/uploads/
 * uploads.test.ts and parts.test.ts at tag v6.49.0, commit 04671d27), made the same way against
 * the emulator with `sdkFixtures`. Each "only required params" test awaits the same APIPromise as
 * a raw Response, as parsed data and with its response, and those tests run in parallel jest
 * workers, so here every test runs concurrently, twice, in different orders.
 */
import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { SDK_FIXTURE_IDS } from '../../src/emulator/index.ts';
import { startEmulator } from './helpers.ts';

/** What the SDK returns for a call: a promise of the parsed data that can also give the Response. */
type ApiCall = PromiseLike<unknown> & {
  asResponse(): Promise<Response>;
  withResponse(): Promise<{ data: unknown; response: Response }>;
};

/** The generated tests' pattern for a call with only required params. */
async function threeWays(responsePromise: ApiCall): Promise<void> {
  const rawResponse = await responsePromise.asResponse();
  expect(rawResponse).toBeInstanceOf(Response);
  const response = await responsePromise;
  expect(response).not.toBeInstanceOf(Response);
  const dataAndResponse = await responsePromise.withResponse();
  expect(dataAndResponse.data).toBe(response);
  expect(dataAndResponse.response).toBe(rawResponse);
}

function sdkTests(client: OpenAI): Array<() => Promise<unknown>> {
  return [
    // uploads.test.ts
    () =>
      threeWays(
        client.uploads.create({
          bytes: 0,
          filename: 'filename',
          mime_type: 'mime_type',
          purpose: 'assistants',
        }),
      ),
    () =>
      client.uploads.create({
        bytes: 0,
        filename: 'filename',
        mime_type: 'mime_type',
        purpose: 'assistants',
        expires_after: { anchor: 'created_at', seconds: 3600 },
      }),
    () => threeWays(client.uploads.cancel('upload_abc123')),
    () => threeWays(client.uploads.complete('upload_abc123', { part_ids: ['string'] })),
    () => client.uploads.complete('upload_abc123', { part_ids: ['string'], md5: 'md5' }),
    // parts.test.ts
    async () =>
      threeWays(
        client.uploads.parts.create('upload_abc123', {
          data: await toFile(Buffer.from('Example data'), 'README.md'),
        }),
      ),
    async () =>
      client.uploads.parts.create('upload_abc123', {
        data: await toFile(Buffer.from('Example data'), 'README.md'),
      }),
  ];
}

describe("openai-node's generated uploads tests", () => {
  it('pass against the emulator with sdkFixtures, however they interleave', async () => {
    const { emulator, fetch, baseURL } = await startEmulator({ sdkFixtures: true });
    const client = new OpenAI({ apiKey: 'My API Key', adminAPIKey: 'My Admin API Key', baseURL, fetch });
    const tests = sdkTests(client);
    await Promise.all(tests.map((test) => test()));
    await Promise.all([...tests].reverse().map((test) => test()));
    for (const test of tests) await test();
    expect(emulator.stats().requests.every((request) => request.status === 200)).toBe(true);

    // The fixture was not consumed: it is still pending and takes parts, and completes anew.
    expect(SDK_FIXTURE_IDS.upload).toBe('upload_abc123');
    const part = await client.uploads.parts.create('upload_abc123', { data: new File(['more'], 'data') });
    const completed = await client.uploads.complete('upload_abc123', { part_ids: [part.id] });
    expect(completed).toMatchObject({ id: 'upload_abc123', status: 'completed', file: { bytes: 4 } });
    expect((await client.uploads.cancel('upload_abc123')).status).toBe('cancelled');
    expect(emulator.inspect().openUploads).toBeGreaterThanOrEqual(1);

    // reset() seeds the fixture again.
    emulator.reset();
    await expect(client.uploads.cancel('upload_abc123')).resolves.toMatchObject({ status: 'cancelled' });
  });

  it('fail without it: the ids do not exist, and real semantics refuse the placeholder values', async () => {
    const { fetch, baseURL } = await startEmulator();
    const client = new OpenAI({ apiKey: 'My API Key', baseURL, fetch, maxRetries: 0 });
    await expect(client.uploads.cancel('upload_abc123')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const upload = await client.uploads.create({
      bytes: 0,
      filename: 'filename',
      mime_type: 'mime_type',
      purpose: 'assistants',
    });
    await expect(client.uploads.complete(upload.id, { part_ids: ['string'] })).rejects.toMatchObject({
      status: 400,
      param: 'part_ids[0]',
    });
    expect((await client.uploads.complete(upload.id, { part_ids: [] })).file).toMatchObject({ bytes: 0 });
  });
});
