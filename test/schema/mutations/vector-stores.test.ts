import { afterEach, describe, expect, it } from 'vitest';
import { encodeGlobalId } from '../../../src/schema/ids.ts';
import {
  createGateway,
  seedStore,
  TEST_API_KEY,
  type TestGateway,
  uploadTextFiles,
} from '../../support/gateway.ts';

let gateway: TestGateway;
afterEach(() => gateway.close());

const STORE_FIELDS = `
  __typename
  ... on MutationError { message }
  ... on InvalidInputError { field }
  ... on NotFoundError { field }
  ... on RateLimitedError { retryAfter }
  ... on UpstreamError { code upstreamRequestId }
`;

const CREATE = `mutation ($input: CreateVectorStoreInput!) {
  createVectorStore(input: $input) {
    ${STORE_FIELDS}
    ... on CreateVectorStorePayload {
      vectorStore { id openaiId name description metadata status expiresAfter { anchor days } expiresAt fileCounts { total inProgress } }
    }
  }
}`;

const UPDATE = `mutation ($input: UpdateVectorStoreInput!) {
  updateVectorStore(input: $input) {
    ${STORE_FIELDS}
    ... on UpdateVectorStorePayload { vectorStore { id name metadata expiresAfter { days } } }
  }
}`;

const DELETE = `mutation ($input: DeleteVectorStoreInput!) {
  deleteVectorStore(input: $input) {
    ${STORE_FIELDS}
    ... on DeleteVectorStorePayload {
      deletedId deletedOpenaiId deletedFileIds
      failures { openaiFileId stage code message }
    }
  }
}`;

type Result = Record<string, unknown> & { __typename: string };

async function mutate(query: string, input: Record<string, unknown>): Promise<Result> {
  const result = await gateway.graphql<Record<string, Result>>(query, { input });
  expect(result.errors).toBeUndefined();
  return Object.values(result.data!)[0]!;
}

describe('createVectorStore', () => {
  it('creates a store with its files, metadata and expiry, in one upstream call', async () => {
    gateway = await createGateway();
    const fileIds = await uploadTextFiles(gateway.openai, 2);
    gateway.resetUpstreamCalls();

    const result = await mutate(CREATE, {
      name: 'Handbook',
      description: 'HR policies',
      fileIds: [encodeGlobalId('File', fileIds[0]!), fileIds[1], fileIds[0]],
      metadata: { team: 'hr' },
      expiresAfter: { days: 7 },
    });

    expect(result).toMatchObject({
      __typename: 'CreateVectorStorePayload',
      vectorStore: {
        name: 'Handbook',
        description: 'HR policies',
        metadata: { team: 'hr' },
        expiresAfter: { anchor: 'last_active_at', days: 7 },
        fileCounts: { total: 2 },
      },
    });
    expect(gateway.emulator.stats().byRoute).toEqual({ 'POST /v1/vector_stores': 1 });
    const id = (result.vectorStore as { openaiId: string }).openaiId;
    const files = await gateway.openai.vectorStores.files.list(id);
    expect(files.data.map((file) => file.id).sort()).toEqual([...fileIds].sort());
  });

  it('names the missing file by its input position when OpenAI says a file does not exist', async () => {
    gateway = await createGateway();
    const [real] = await uploadTextFiles(gateway.openai, 1);
    // Position 2 in the input is position 1 of what is sent, once the repeat is dropped.
    const result = await mutate(CREATE, { fileIds: [real, real, 'file-doesnotexist0000000000'] });
    expect(result).toMatchObject({ __typename: 'NotFoundError', field: 'input.fileIds[2]' });
    expect(gateway.emulator.inspect().vectorStores).toBe(0);
  });

  it('is sent once: a 500 is an UpstreamError in data, not retried (the SDK sends no idempotency key)', async () => {
    gateway = await createGateway({ app: { policy: { readRetries: 2 } } });
    gateway.emulator.setFaults({ routes: { 'POST /v1/vector_stores': { errorRate: 1, errorStatus: 500 } } });
    const result = await mutate(CREATE, { name: 'once' });
    expect(result).toMatchObject({ __typename: 'UpstreamError', code: 'UPSTREAM_UNAVAILABLE' });
    expect(result.upstreamRequestId).toMatch(/^req_/);
    expect(gateway.upstreamCalls()).toBe(1);
  });

  it('reports a rate limit as RateLimitedError with the delay', async () => {
    gateway = await createGateway();
    gateway.emulator.setFaults({
      routes: { 'POST /v1/vector_stores': { rateLimitRate: 1, retryAfterSeconds: 42 } },
    });
    const result = await mutate(CREATE, { name: 'busy' });
    expect(result).toMatchObject({ __typename: 'RateLimitedError', retryAfter: 42 });
    expect(result.message).toMatch(/Retry after 42 s/);
    expect(gateway.upstreamCalls()).toBe(1);
  });

  it('reports a refused credential as UpstreamError without OpenAI’s text, which echoes the key', async () => {
    gateway = await createGateway({ emulator: { apiKeys: ['sk-another-key'] } });
    const response = await gateway.fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: CREATE, variables: { input: { name: 'x' } } }),
    });
    const text = await response.text();
    expect(JSON.parse(text).data.createVectorStore).toMatchObject({
      __typename: 'UpstreamError',
      code: 'UPSTREAM_AUTH_FAILED',
    });
    expect(text).not.toContain(TEST_API_KEY.slice(-4));
    expect(text).not.toContain('Incorrect API key');
  });
});

describe('updateVectorStore', () => {
  it('changes what is given, clears what is null, and keeps the rest', async () => {
    gateway = await createGateway();
    const store = await gateway.openai.vectorStores.create({
      name: 'old',
      metadata: { a: '1' },
      expires_after: { anchor: 'last_active_at', days: 3 },
    });
    const renamed = await mutate(UPDATE, {
      id: encodeGlobalId('VectorStore', store.id),
      name: 'new',
      metadata: { b: '2' },
    });
    expect(renamed).toMatchObject({
      vectorStore: { name: 'new', metadata: { b: '2' }, expiresAfter: { days: 3 } },
    });
    const cleared = await mutate(UPDATE, { id: store.id, name: null, expiresAfter: null });
    expect(cleared).toMatchObject({ vectorStore: { name: null, metadata: { b: '2' }, expiresAfter: null } });
    const read = await gateway.graphql(`{ vectorStore(id: "${store.id}") { name } }`);
    expect(read.data).toEqual({ vectorStore: { name: null } });
  });

  it('answers NotFoundError for a store that does not exist', async () => {
    gateway = await createGateway();
    const result = await mutate(UPDATE, { id: 'vs_0000000000000000000000000000dead', name: 'x' });
    expect(result).toMatchObject({ __typename: 'NotFoundError', field: 'input.id' });
  });
});

describe('deleteVectorStore', () => {
  it('deletes the store and keeps its Files by default', async () => {
    gateway = await createGateway();
    const { storeId } = await seedStore(gateway.openai, { files: 2 });
    const result = await mutate(DELETE, { id: storeId });
    expect(result).toEqual({
      __typename: 'DeleteVectorStorePayload',
      deletedId: encodeGlobalId('VectorStore', storeId),
      deletedOpenaiId: storeId,
      deletedFileIds: [],
      failures: [],
    });
    expect(gateway.emulator.inspect()).toMatchObject({ vectorStores: 0, files: 2 });
  });

  it('with deleteFiles, lists its files first (one page) and deletes every one, within its price', async () => {
    gateway = await createGateway();
    const { storeId, fileIds } = await seedStore(gateway.openai, { files: 100 });
    const unrelated = await uploadTextFiles(gateway.openai, 1, 'keep');
    gateway.resetUpstreamCalls();

    const response = await gateway.graphql<{ deleteVectorStore: Record<string, unknown> }>(
      `mutation ($input: DeleteVectorStoreInput!) {
        deleteVectorStore(input: $input) { ... on DeleteVectorStorePayload { deletedFileIds failures { code } } }
      }`,
      { input: { id: storeId, deleteFiles: true } },
    );
    const result = response.data!.deleteVectorStore;

    expect(result.failures).toEqual([]);
    expect((result.deletedFileIds as string[]).sort()).toEqual(
      fileIds.map((id) => encodeGlobalId('File', id)).sort(),
    );
    const { byRoute, requests, total } = gateway.emulator.stats();
    expect(byRoute['GET /v1/vector_stores/{vector_store_id}/files']).toBe(1);
    expect(byRoute['DELETE /v1/vector_stores/{vector_store_id}']).toBe(1);
    expect(byRoute['DELETE /v1/files/{file_id}']).toBe(100);
    expect(total).toBeLessThanOrEqual(
      (response as { extensions?: { cost?: { upstreamCalls: number } } }).extensions!.cost!.upstreamCalls,
    );
    // The listing came before the store was deleted.
    const firstDelete = requests.findIndex((r) => r.method === 'DELETE');
    expect(requests.slice(0, firstDelete).every((r) => r.method === 'GET')).toBe(true);
    expect(gateway.emulator.inspect()).toMatchObject({ vectorStores: 0, files: 1 });
    expect((await gateway.openai.files.retrieve(unrelated[0]!)).id).toBe(unrelated[0]);
  });

  it('with deleteFiles, refuses a store of more files than one delete takes along, and deletes nothing', async () => {
    gateway = await createGateway();
    const { storeId } = await seedStore(gateway.openai, { files: 101 });
    gateway.resetUpstreamCalls();
    const result = await mutate(DELETE, { id: storeId, deleteFiles: true });
    expect(result).toMatchObject({ __typename: 'InvalidInputError', field: 'input.deleteFiles' });
    expect(result.message).toMatch(/more than 100 files.*removeFiles/);
    expect(gateway.emulator.stats().total).toBe(1);
    expect(gateway.emulator.inspect()).toMatchObject({ vectorStores: 1, files: 101 });
  });

  it('reports each File it could not delete, after deleting the store', async () => {
    gateway = await createGateway();
    const { storeId } = await seedStore(gateway.openai, { files: 3 });
    gateway.emulator.setFaults({
      seed: 8,
      routes: { 'DELETE /v1/files/{file_id}': { errorRate: 0.5, errorStatus: 503 } },
    });
    const result = await mutate(DELETE, { id: storeId, deleteFiles: true });
    const failures = result.failures as Array<{ openaiFileId: string; stage: string; code: string }>;
    expect(failures.length).toBeGreaterThan(0);
    expect(
      failures.every((failure) => failure.stage === 'DELETE' && failure.code === 'UPSTREAM_UNAVAILABLE'),
    ).toBe(true);
    expect((result.deletedFileIds as string[]).length + failures.length).toBe(3);
    expect(gateway.emulator.inspect()).toMatchObject({ vectorStores: 0, files: failures.length });
  });

  it('answers NotFoundError for a store that does not exist', async () => {
    gateway = await createGateway();
    const result = await mutate(DELETE, { id: 'vs_0000000000000000000000000000dead', deleteFiles: true });
    expect(result).toMatchObject({ __typename: 'NotFoundError', field: 'input.id' });
  });
});
