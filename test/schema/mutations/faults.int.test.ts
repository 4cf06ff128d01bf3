import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../../support/gateway.ts';
import { uploadWithFormData } from '../../support/multipart.ts';

let gateway: TestGateway;
afterEach(() => gateway.close());

const UPLOAD_ROUTE = 'POST /v1/files';
const BATCH_ROUTE = 'POST /v1/vector_stores/{vector_store_id}/file_batches';

describe('uploadFiles with upstream failures', () => {
  it('with 30% of uploads and attaches failing (500), duplicates no file and ends each attached or reported failed', async () => {
    gateway = await startGateway();
    const store = await gateway.openai.vectorStores.create({ name: 'flaky' });
    // Route keys as the emulator names them (its stats use the same ones).
    gateway.emulator.setFaults({
      seed: 11,
      routes: {
        [UPLOAD_ROUTE]: { errorRate: 0.3, errorStatus: 500 },
        [BATCH_ROUTE]: { errorRate: 0.3, errorStatus: 500 },
      },
    });

    const reportedAttached = new Map<string, string>();
    const reportedFailed: Array<{ filename: string; stage: string; code: string }> = [];
    const requests = 8;
    const perRequest = 5;
    for (let request = 0; request < requests; request++) {
      const names = Array.from({ length: perRequest }, (_, index) => `r${request}-f${index}.txt`);
      const result = await uploadWithFormData(
        gateway,
        { vectorStoreId: store.id },
        names.map((name) => ({ name, content: `contents of ${name}` })),
      );
      const payload = result.data?.uploadFiles;
      expect(payload?.__typename).toBe('UploadFilesPayload');
      for (const file of payload?.files ?? []) reportedAttached.set(file.file!.filename, file.openaiId);
      for (const failure of payload?.failures ?? []) {
        expect(failure.filename).toMatch(/^r\d-f\d\.txt$/);
        expect(failure.code).toBe('UPSTREAM_UNAVAILABLE');
        expect(failure.message).toContain(failure.filename!);
        expect(failure.openaiFileId).toBeNull();
        reportedFailed.push({ filename: failure.filename!, stage: failure.stage, code: failure.code });
      }
      // Every file has exactly one answer.
      expect(
        [
          ...(payload?.files ?? []).map((f) => f.file!.filename),
          ...(payload?.failures ?? []).map((f) => f.filename),
        ].sort(),
      ).toEqual(names);
    }
    gateway.emulator.setFaults(null);

    // Upstream agrees with the answers: each reported-attached file exists once and is attached;
    // nothing reported failed exists.
    const files = await gateway.openai.files.list();
    const byName = new Map<string, number>();
    for (const file of files.data) byName.set(file.filename, (byName.get(file.filename) ?? 0) + 1);
    expect([...byName.values()].every((count) => count === 1)).toBe(true);
    expect(new Map(files.data.map((file) => [file.filename, file.id]))).toEqual(reportedAttached);
    const attached = await gateway.openai.vectorStores.files.list(store.id, { limit: 100 });
    expect(attached.data.map((file) => file.id).sort()).toEqual([...reportedAttached.values()].sort());
    expect(reportedAttached.size + reportedFailed.length).toBe(requests * perRequest);

    // Both failure paths were taken: failed uploads, and failed attaches (cleaned up afterwards).
    const { requests: calls, byRoute } = gateway.emulator.stats();
    const failedUploads = calls.filter((call) => call.route === UPLOAD_ROUTE && call.status === 500).length;
    const failedBatches = calls.filter((call) => call.route === BATCH_ROUTE && call.status === 500).length;
    expect(failedUploads).toBeGreaterThan(0);
    expect(failedBatches).toBeGreaterThan(0);
    expect(reportedFailed.filter((failure) => failure.stage === 'UPLOAD')).toHaveLength(failedUploads);
    expect(reportedFailed.some((failure) => failure.stage === 'ATTACH')).toBe(true);
    // A request whose attach failed had both of its sends fail; the other failed sends were
    // followed by a read and a resend that went through.
    const requestsNotAttached = new Set(
      reportedFailed
        .filter((failure) => failure.stage === 'ATTACH')
        .map((failure) => failure.filename.split('-')[0]),
    );
    expect(failedBatches).toBeGreaterThan(2 * requestsNotAttached.size);
    // Uploads are never re-sent; a batch goes out again only after a read showed it had not applied.
    expect(byRoute[UPLOAD_ROUTE]).toBe(requests * perRequest);
    expect(byRoute[BATCH_ROUTE]).toBeLessThanOrEqual(2 * requests);
    expect(byRoute['DELETE /v1/files/{file_id}']).toBe(
      reportedFailed.filter((f) => f.stage === 'ATTACH').length,
    );
  });

  it('reads whether a batch whose answer was lost was applied, instead of sending it again', async () => {
    gateway = await startGateway({ app: { policy: { callTimeoutMs: 800 } } });
    const store = await gateway.openai.vectorStores.create({ name: 'lost answer' });
    // The batch is applied, then its response stalls: the gateway times out not knowing.
    gateway.emulator.setFaults({ routes: { [BATCH_ROUTE]: { stall: 'body' } } });

    const result = await uploadWithFormData(gateway, { vectorStoreId: store.id }, [
      { name: 'one.txt', content: 'first' },
      { name: 'two.txt', content: 'second' },
    ]);

    const payload = result.data?.uploadFiles;
    expect(payload?.failures).toEqual([]);
    expect(payload?.files?.map((file) => file.file?.filename)).toEqual(['one.txt', 'two.txt']);
    // Known to be attached, but the batch object itself never arrived.
    expect(payload?.fileBatch).toBeNull();
    expect(payload?.vectorStore?.fileCounts.total).toBe(2);
    expect(gateway.emulator.stats().byRoute[BATCH_ROUTE]).toBe(1);
    expect(gateway.emulator.inspect().files).toBe(2);
  });

  it('sends a batch again once a read showed the failed one changed nothing', async () => {
    gateway = await startGateway();
    const store = await gateway.openai.vectorStores.create({ name: 'second try' });
    // With this seed the first batch request fails and the second goes through.
    gateway.emulator.setFaults({ seed: 8, routes: { [BATCH_ROUTE]: { errorRate: 0.5, errorStatus: 503 } } });

    const result = await uploadWithFormData(gateway, { vectorStoreId: store.id }, [
      { name: 'a.txt', content: 'alpha' },
      { name: 'b.txt', content: 'beta' },
    ]);

    expect(
      gateway.emulator
        .stats()
        .requests.filter((r) => r.route === BATCH_ROUTE)
        .map((r) => r.status),
    ).toEqual([503, 200]);
    expect(result.data?.uploadFiles).toMatchObject({ failures: [], fileBatch: { fileCounts: { total: 2 } } });
    expect(result.data?.uploadFiles.files).toHaveLength(2);
  });

  it('deletes the uploaded files when attaching them fails twice, and says so per file', async () => {
    gateway = await startGateway();
    const store = await gateway.openai.vectorStores.create({ name: 'never attached' });
    gateway.emulator.setFaults({ routes: { [BATCH_ROUTE]: { errorRate: 1, errorStatus: 502 } } });

    const result = await uploadWithFormData(gateway, { vectorStoreId: store.id }, [
      { name: 'a.txt', content: 'alpha' },
      { name: 'b.txt', content: 'beta' },
    ]);

    expect(result.data?.uploadFiles.files).toEqual([]);
    expect(result.data?.uploadFiles.failures).toEqual([
      expect.objectContaining({ index: 0, filename: 'a.txt', stage: 'ATTACH', code: 'UPSTREAM_UNAVAILABLE' }),
      expect.objectContaining({ index: 1, filename: 'b.txt', stage: 'ATTACH', code: 'UPSTREAM_UNAVAILABLE' }),
    ]);
    expect(result.data?.uploadFiles.failures?.[0]?.message).toBe(
      '"a.txt" was not attached: OpenAI failed to answer (HTTP 502). The uploaded file was deleted.',
    );
    expect(gateway.emulator.stats().byRoute[BATCH_ROUTE]).toBe(2);
    expect(gateway.emulator.inspect().files).toBe(0);
  });

  it('reports a rate-limited attach per file with the delay, and leaves nothing behind', async () => {
    gateway = await startGateway();
    const store = await gateway.openai.vectorStores.create({ name: 'busy' });
    gateway.emulator.setFaults({ routes: { [BATCH_ROUTE]: { rateLimitRate: 1, retryAfterSeconds: 20 } } });

    const result = await uploadWithFormData(gateway, { vectorStoreId: store.id }, [
      { name: 'a.txt', content: 'alpha' },
    ]);

    expect(result.data?.uploadFiles.failures).toEqual([
      expect.objectContaining({ filename: 'a.txt', stage: 'ATTACH', code: 'RATE_LIMITED', retryAfter: 20 }),
    ]);
    // A 429 changed nothing: no read, no second batch.
    expect(gateway.emulator.stats().byRoute[BATCH_ROUTE]).toBe(1);
    expect(gateway.emulator.inspect().files).toBe(0);
  });
});
