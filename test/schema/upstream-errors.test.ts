import { afterEach, describe, expect, it } from 'vitest';
import { createGateway, seedStore, TEST_API_KEY, type TestGateway } from '../support/gateway.ts';

describe('upstream failures', () => {
  let gateway: TestGateway;
  afterEach(() => gateway.close());

  it('fails only the field whose upstream call failed, with a code, and keeps the siblings', async () => {
    gateway = await createGateway();
    const { storeId, fileIds } = await seedStore(gateway.openai, { name: 'kept', files: 1 });
    gateway.emulator.setFaults({ routes: { 'GET /v1/files/{file_id}': { errorRate: 1, errorStatus: 500 } } });

    const result = await gateway.graphql<{
      vectorStore: { name: string; file: { status: string; file: null } };
    }>(
      `query ($store: ID!, $file: ID!) { vectorStore(id: $store) { name file(id: $file) { status file { filename } } } }`,
      {
        store: storeId,
        file: fileIds[0],
      },
    );

    expect(result.data).toEqual({ vectorStore: { name: 'kept', file: { status: 'COMPLETED', file: null } } });
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]).toMatchObject({
      path: ['vectorStore', 'file', 'file'],
      extensions: { code: 'UPSTREAM_UNAVAILABLE', upstreamStatus: 500 },
    });
  });

  it('reports a rate limit with its delay instead of sleeping through a long Retry-After', async () => {
    gateway = await createGateway({ app: { policy: { readRetries: 2, maxRetryAfterSeconds: 5 } } });
    const { storeId } = await seedStore(gateway.openai, { files: 0 });
    gateway.emulator.setFaults({
      routes: { 'GET /v1/vector_stores/{vector_store_id}': { rateLimitRate: 1, retryAfterSeconds: 30 } },
    });
    gateway.resetUpstreamCalls();

    const started = Date.now();
    const result = await gateway.graphql(`{ vectorStore(id: "${storeId}") { name } }`);

    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.data).toEqual({ vectorStore: null });
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 30 });
    expect(result.errors![0]!.message).toMatch(/Retry after 30 s/);
    expect(gateway.upstreamCalls()).toBe(1);
  });

  it('retries reads through a short Retry-After and succeeds', async () => {
    gateway = await createGateway({ app: { policy: { readRetries: 2, maxRetryAfterSeconds: 5 } } });
    const { storeId } = await seedStore(gateway.openai, { name: 'patient', files: 0 });
    gateway.emulator.setFaults({
      seed: 7,
      routes: { 'GET /v1/vector_stores/{vector_store_id}': { rateLimitRate: 0.5, retryAfterSeconds: 1 } },
    });
    const result = await gateway.graphql(`{ vectorStore(id: "${storeId}") { name } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ vectorStore: { name: 'patient' } });
  });

  it('never forwards OpenAI error text, which for a bad key echoes part of it', async () => {
    gateway = await createGateway({ emulator: { apiKeys: ['sk-some-other-key'] } });
    const response = await gateway.fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: '{ vectorStores(first: 1) { nodes { id } } file(id: "file-abc") { id } }',
      }),
    });
    const text = await response.text();
    const body = JSON.parse(text) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.errors.map((error) => error.extensions.code)).toContain('UPSTREAM_AUTH_FAILED');
    expect(text).not.toContain(TEST_API_KEY.slice(-4));
    expect(text).not.toContain('Incorrect API key');
    expect(text).not.toMatch(/sk-[a-z0-9*]/i);
  });
});
