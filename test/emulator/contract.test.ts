/**
 * Contract tests: every endpoint's success and error responses validate against the OpenAPI subset
 * in vendor/openai. Where the real API deviates from the spec (as recorded by openai/openai-dotnet), the deviation is
 * asserted explicitly and only that field is normalised before validation.
 */
import { readFileSync } from 'node:fs';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { beforeEach, describe, expect, it } from 'vitest';
import { contentDisposition } from '../../src/emulator/files.ts';
import { type Harness, startEmulator } from './helpers.ts';

interface OpenApi {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { $ref?: string; content?: JsonContent }> }>
  >;
  components: { responses: Record<string, { content: JsonContent }> };
}
type JsonContent = { 'application/json': { schema: { $ref?: string; type?: string } } };
type Json = Record<string, unknown>;

/**
 * OpenAPI 3.0 writes "X or null" as `allOf: [X, {nullable: true}]` (Upload.file), which ajv
 * refuses ("nullable" cannot be used without "type"). This rewrites each such allOf into the
 * JSON Schema it means, `anyOf: [{allOf: [X]}, {type: 'null'}]`, in memory; the vendored file
 * stays byte for byte.
 */
function nullableAllOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableAllOf);
  if (typeof node !== 'object' || node === null) return node;
  const object = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, nullableAllOf(value)]));
  const members = object.allOf;
  const isNullable = (member: unknown) =>
    typeof member === 'object' && member !== null && 'nullable' in member && !('type' in member);
  if (!Array.isArray(members) || !members.some(isNullable)) return object;
  const kept = members.map((member) => {
    if (!isNullable(member)) return member;
    const { nullable: _nullable, ...rest } = member as Record<string, unknown>;
    return rest;
  });
  return { anyOf: [{ ...object, allOf: kept }, { type: 'null' }] };
}

const spec = nullableAllOf(
  JSON.parse(
    readFileSync(new URL('../../vendor/openai/openapi.vector-stores.json', import.meta.url), 'utf8'),
  ),
) as OpenApi;

const ajv = new Ajv2019({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addFormat('unixtime', {
  type: 'number',
  validate: (value: number) => Number.isInteger(value) && value >= 0,
});
ajv.addSchema({ ...spec, $id: 'openapi.json' });

function responseSchemaRef(method: string, template: string, status: number): string {
  const operation = spec.paths[template]?.[method.toLowerCase()];
  if (!operation) throw new Error(`No operation ${method} ${template} in the spec`);
  const response = operation.responses[String(status)];
  const content = response?.$ref
    ? spec.components.responses[response.$ref.split('/').at(-1)!]?.content
    : response?.content;
  // Error statuses other than 429 are not described per operation; the API's envelope applies.
  return content?.['application/json'].schema.$ref ?? '#/components/schemas/ErrorResponse';
}

function validate(ref: string, body: unknown): void {
  const validator = ajv.getSchema(`openapi.json${ref}`);
  if (!validator) throw new Error(`Unknown schema ${ref}`);
  const valid = validator(body);
  expect(valid ? [] : validator.errors, `${ref}: ${JSON.stringify(body).slice(0, 400)}`).toEqual([]);
}

// Documented wire deviations. Each function asserts the deviation, then rewrites exactly that field
// into its spec form so the remainder is validated strictly.
function fileToSpec(file: Json): Json {
  expect(file).toHaveProperty('expires_at'); // present, null unless the file expires (spec: optional int)
  expect(file.status_details).toBeNull(); // present and null on the wire (spec: optional string)
  const { status_details: _details, ...rest } = file;
  if (rest.expires_at === null) delete rest.expires_at;
  return rest;
}

function vectorStoreToSpec(store: Json): Json {
  expect(store).toHaveProperty('description'); // not in VectorStoreObject, always on the wire
  expect(store).toHaveProperty('expires_after'); // explicit null when unset (spec: optional object)
  const { description, ...rest } = store;
  expect(description === null || typeof description === 'string').toBe(true);
  if (rest.expires_after === null) delete rest.expires_after;
  if (rest.name === null) rest.name = ''; // null when unset (spec: string)
  return rest;
}

function batchToSpec(batch: Json): Json {
  expect(batch.object).toBe('vector_store.file_batch'); // the spec enum says vector_store.files_batch
  return { ...batch, object: 'vector_store.files_batch' };
}

function listToSpec(list: Json, item: (value: Json) => Json): Json {
  const data = list.data as Json[];
  if (data.length === 0) {
    // Empty pages carry null ids, as sibling OpenAI lists do (spec: string).
    expect(list.first_id).toBeNull();
    expect(list.last_id).toBeNull();
    return { ...list, data, first_id: '', last_id: '' };
  }
  return { ...list, data: data.map(item) };
}

const TO_SPEC: Record<string, (body: Json) => Json> = {
  '#/components/schemas/OpenAIFile': fileToSpec,
  '#/components/schemas/VectorStoreObject': vectorStoreToSpec,
  '#/components/schemas/VectorStoreFileBatchObject': batchToSpec,
  '#/components/schemas/ListFilesResponse': (list) => listToSpec(list, fileToSpec),
  '#/components/schemas/ListVectorStoresResponse': (list) => listToSpec(list, vectorStoreToSpec),
  '#/components/schemas/ListVectorStoreFilesResponse': (list) => listToSpec(list, (file) => file),
  // The nested File of a completed upload has the File's deviations.
  '#/components/schemas/Upload': (upload) =>
    upload.file === undefined ? upload : { ...upload, file: fileToSpec(upload.file as Json) },
};

let h: Harness;

/**
 * Calls an endpoint by its spec template, checks the headers every response carries, and validates
 * the body against the spec's response schema for that operation and status.
 */
async function call(
  method: string,
  template: string,
  params: Record<string, string>,
  options: { json?: unknown; query?: string; body?: BodyInit; status?: number } = {},
): Promise<{ status: number; headers: Headers; body: Json }> {
  const path = template
    .replace(/^\/v1/, '')
    .replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? `missing-${name}`);
  const response = await h.api(`${path}${options.query ? `?${options.query}` : ''}`, {
    method,
    json: options.json,
    body: options.body,
  });
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
  expect(response.headers.get('openai-version')).toBe('2020-10-01');
  expect(response.headers.get('openai-processing-ms')).toMatch(/^\d+$/);
  const body = (await response.json()) as Json;
  expect(response.status, JSON.stringify(body)).toBe(options.status ?? 200);
  const ref = responseSchemaRef(method, template.replace(/^\/v1/, ''), response.status);
  validate(ref, (TO_SPEC[ref] ?? ((value: Json) => value))(body));
  return { status: response.status, headers: response.headers, body };
}

async function upload(filename: string, text: string): Promise<Json> {
  const form = new FormData();
  form.set('purpose', 'assistants');
  form.set('file', new File([text], filename));
  return (await call('POST', '/v1/files', {}, { body: form })).body;
}

beforeEach(async () => {
  h = await startEmulator();
});

describe('files', () => {
  it('create, list, retrieve, content and delete match the spec', async () => {
    const file = await upload('notes.txt', 'hello world');
    expect(file).toMatchObject({ object: 'file', filename: 'notes.txt', bytes: 11, status: 'processed' });
    expect(file.id).toMatch(/^file-[1-9A-HJ-NP-Za-km-z]{22}$/);
    expect(file.expires_at).toBeNull();

    const params = { file_id: file.id as string };
    await call('GET', '/v1/files', {}, { query: 'purpose=assistants&limit=5&order=asc' });
    await call('GET', '/v1/files/{file_id}', params);

    // openai-dotnet FilesTests/DownloadContent: octet-stream whatever the type, name as an attachment.
    const content = await h.api(`/files/${file.id}/content`, { headers: { accept: 'text/plain' } });
    expect(content.status).toBe(200);
    expect(content.headers.get('content-type')).toBe('application/octet-stream');
    expect(content.headers.get('content-disposition')).toBe('attachment; filename="notes.txt"');
    expect(content.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(await content.text()).toBe('hello world');

    const deleted = await call('DELETE', '/v1/files/{file_id}', params);
    expect(Object.keys(deleted.body)).toEqual(['object', 'deleted', 'id']);
    const empty = await call('GET', '/v1/files', {});
    expect(empty.body.data).toEqual([]);
  });

  it('names a non-ASCII file in Content-Disposition with an ASCII fallback and filename*', async () => {
    const file = await upload('你好 x.txt', 'hi');
    const content = await h.api(`/files/${file.id}/content`);
    expect(content.headers.get('content-disposition')).toBe(
      `attachment; filename="__ x.txt"; filename*=UTF-8''%E4%BD%A0%E5%A5%BD%20x.txt`,
    );
    // Browsers' FormData percent-encodes quotes in part names; a raw client may still send them.
    expect(contentDisposition('a "b" \\ c.txt')).toBe('attachment; filename="a \\"b\\" \\\\ c.txt"');
  });

  it('errors use the OpenAI envelope and wording, with the Files API detail', async () => {
    const form = new FormData();
    form.set('purpose', 'world_domination');
    form.set('file', new File(['x'], 'x.txt'));
    const purpose = await call('POST', '/v1/files', {}, { body: form, status: 400 });
    // openai-dotnet FilesTests/UploadFileCanParseServiceError (386d6f1a), byte for byte.
    const purposeMessage =
      "'world_domination' is not one of ['fine-tune', 'assistants', 'batch', 'user_data', 'vision', 'evals'] - 'purpose'";
    expect(purpose.body).toEqual({
      error: { message: purposeMessage, type: 'invalid_request_error', param: 'purpose', code: null },
      detail: { message: purposeMessage, code: null },
    });

    // openai-dotnet FilesTests/{Get,Delete,Download}FileCanParseServiceError: a malformed id is
    // unknown (404), not a wrong prefix (400).
    const recorded = {
      error: {
        message: 'No such File object: fake_id',
        type: 'invalid_request_error',
        param: 'id',
        code: null,
      },
      detail: { message: 'No such File object: fake_id', code: null },
    };
    const params = { file_id: 'fake_id' };
    for (const [method, template] of [
      ['GET', '/v1/files/{file_id}'],
      ['DELETE', '/v1/files/{file_id}'],
      ['GET', '/v1/files/{file_id}/content'],
    ] as const) {
      const { body } = await call(method, template, params, { status: 404 });
      expect(body, `${method} ${template}`).toEqual(recorded);
    }
    for (const fileId of ['file-nope', 'vs_123']) {
      const { body } = await call('GET', '/v1/files/{file_id}', { file_id: fileId }, { status: 404 });
      expect(body.error).toMatchObject({ message: `No such File object: ${fileId}`, param: 'id' });
    }
    // Other families keep the plain envelope and the prefix check (openai/openai-node#1700).
    const store = await call(
      'GET',
      '/v1/vector_stores/{vector_store_id}',
      { vector_store_id: 'vs_x' },
      {
        status: 404,
      },
    );
    expect(store.body).not.toHaveProperty('detail');

    const limit = await call('GET', '/v1/files', {}, { query: 'limit=10001', status: 400 });
    expect(limit.body.error).toMatchObject({
      message:
        "Invalid 'limit': integer above maximum value. Expected a value <= 10000, but got 10001 instead.",
      param: 'limit',
      code: 'integer_above_max_value',
    });
  });
});

describe('vector stores', () => {
  it('create, list, retrieve, modify, search and delete match the spec', async () => {
    const file = await upload('guide.md', 'The emulator answers search queries about vector stores.');
    const created = await call(
      'POST',
      '/v1/vector_stores',
      {},
      {
        json: {
          name: 'docs',
          description: 'Product docs',
          file_ids: [file.id],
          metadata: { team: 'search' },
          expires_after: { anchor: 'last_active_at', days: 3 },
        },
      },
    );
    const store = created.body;
    expect(store).toMatchObject({
      object: 'vector_store',
      name: 'docs',
      description: 'Product docs',
      status: 'in_progress',
      metadata: { team: 'search' },
      file_counts: { in_progress: 1, completed: 0, failed: 0, cancelled: 0, total: 1 },
      expires_after: { anchor: 'last_active_at', days: 3 },
    });
    expect(store.id).toMatch(/^vs_[0-9a-f]{32}$/);
    expect(store.expires_at).toBe((store.last_active_at as number) + 3 * 86_400);

    const params = { vector_store_id: store.id as string };
    await call('GET', '/v1/vector_stores', {}, { query: 'limit=10&order=asc' });
    const retrieved = await call('GET', '/v1/vector_stores/{vector_store_id}', params);
    expect(retrieved.body).toMatchObject({ status: 'completed', usage_bytes: file.bytes });
    const modified = await call('POST', '/v1/vector_stores/{vector_store_id}', params, {
      json: { name: null, metadata: { team: 'core' }, expires_after: null },
    });
    expect(modified.body).toMatchObject({
      name: null,
      metadata: { team: 'core' },
      expires_after: null,
      expires_at: null,
    });

    const search = await call('POST', '/v1/vector_stores/{vector_store_id}/search', params, {
      json: { query: 'search queries', max_num_results: 5 },
    });
    expect(search.body).toMatchObject({
      object: 'vector_store.search_results.page',
      search_query: ['search queries'],
    });
    expect((search.body.data as Json[])[0]).toMatchObject({ file_id: file.id, filename: 'guide.md' });

    const deleted = await call('DELETE', '/v1/vector_stores/{vector_store_id}', params);
    expect(deleted.body).toEqual({ id: store.id, object: 'vector_store.deleted', deleted: true });
  });

  it('an unnamed store reports name null, description null and metadata {}', async () => {
    const { body } = await call('POST', '/v1/vector_stores', {}, { json: {} });
    expect(body).toMatchObject({
      name: null,
      description: null,
      metadata: {},
      expires_after: null,
      expires_at: null,
    });
  });

  it('validation errors name the parameter', async () => {
    const cases: Array<[unknown, string, string]> = [
      [
        { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) },
        'metadata',
        'object_above_max_properties',
      ],
      [{ metadata: { ['k'.repeat(65)]: 'v' } }, 'metadata', 'invalid_value'],
      [{ metadata: { k: 'v'.repeat(513) } }, 'metadata.k', 'string_above_max_length'],
      [
        { expires_after: { anchor: 'last_active_at', days: 0 } },
        'expires_after.days',
        'integer_below_min_value',
      ],
      [
        { expires_after: { anchor: 'last_active_at', days: 366 } },
        'expires_after.days',
        'integer_above_max_value',
      ],
      [{ expires_after: { anchor: 'created_at', days: 1 } }, 'expires_after.anchor', 'invalid_value'],
      [{ file_ids: ['vs_1'] }, 'file_ids[0]', 'invalid_value'],
      [{ name: 5 }, 'name', 'invalid_type'],
      [{ colour: 'blue' }, 'colour', 'unknown_parameter'],
    ];
    for (const [json, param, code] of cases) {
      const { body } = await call('POST', '/v1/vector_stores', {}, { json, status: 400 });
      expect(body.error, JSON.stringify(json)).toMatchObject({ param, code, type: 'invalid_request_error' });
    }
    const tooMany = await call(
      'POST',
      '/v1/vector_stores',
      {},
      { json: { file_ids: Array(501).fill('file-x') }, status: 400 },
    );
    expect(tooMany.body.error).toMatchObject({ param: 'file_ids', code: 'array_above_max_length' });
    const missingFile = await call(
      'POST',
      '/v1/vector_stores',
      {},
      { json: { file_ids: ['file-missing'] }, status: 404 },
    );
    expect(missingFile.body.error).toMatchObject({ param: 'file_ids[0]' });

    const limit = await call('GET', '/v1/vector_stores', {}, { query: 'limit=101', status: 400 });
    expect(limit.body.error).toEqual({
      message: "Invalid 'limit': integer above maximum value. Expected a value <= 100, but got 101 instead.",
      type: 'invalid_request_error',
      param: 'limit',
      code: 'integer_above_max_value',
    });
    const zero = await call('GET', '/v1/vector_stores', {}, { query: 'limit=0', status: 400 });
    expect(zero.body.error).toMatchObject({ param: 'limit', code: 'integer_below_min_value' });
    const order = await call('GET', '/v1/vector_stores', {}, { query: 'order=up', status: 400 });
    expect(order.body.error).toMatchObject({ param: 'order', code: 'invalid_value' });

    const unknown = await call(
      'GET',
      '/v1/vector_stores/{vector_store_id}',
      { vector_store_id: 'vs_abc' },
      { status: 404 },
    );
    expect(unknown.body.error).toMatchObject({ message: "No vector store found with id 'vs_abc'." });
    const wrong = await call(
      'GET',
      '/v1/vector_stores/{vector_store_id}',
      { vector_store_id: 'file-abc' },
      { status: 400 },
    );
    expect(wrong.body.error).toMatchObject({
      message: "Invalid 'vector_store_id': 'file-abc'. Expected an ID that begins with 'vs_'.",
      param: 'vector_store_id',
      code: 'invalid_value',
    });
    await call(
      'POST',
      '/v1/vector_stores/{vector_store_id}',
      { vector_store_id: 'vs_abc' },
      { json: {}, status: 404 },
    );
    await call(
      'DELETE',
      '/v1/vector_stores/{vector_store_id}',
      { vector_store_id: 'vs_abc' },
      { status: 404 },
    );

    const invalidJson = await call('POST', '/v1/vector_stores', {}, { body: '{"name":', status: 400 });
    expect(invalidJson.body.error).toMatchObject({ param: null, code: null });
    expect((invalidJson.body.error as Json).message).toMatch(
      /^We could not parse the JSON body of your request/,
    );
  });

  it('search validates its request', async () => {
    const store = (await call('POST', '/v1/vector_stores', {}, { json: { name: 's' } })).body;
    const params = { vector_store_id: store.id as string };
    const cases: Array<[unknown, string]> = [
      [{}, 'query'],
      [{ query: 'x', max_num_results: 51 }, 'max_num_results'],
      [{ query: 'x', max_num_results: 0 }, 'max_num_results'],
      [{ query: 'x', filters: { type: 'like', key: 'a', value: 1 } }, 'filters.type'],
      [{ query: 'x', ranking_options: { score_threshold: 2 } }, 'ranking_options.score_threshold'],
    ];
    for (const [json, param] of cases) {
      const { body } = await call('POST', '/v1/vector_stores/{vector_store_id}/search', params, {
        json,
        status: 400,
      });
      expect((body.error as Json).param, JSON.stringify(json)).toBe(param);
    }
  });

  it('a 429 carries Retry-After and the spec envelope', async () => {
    h.emulator.setFaults({ rateLimitRate: 1, retryAfterSeconds: 2 });
    const { headers, body } = await call('GET', '/v1/vector_stores', {}, { status: 429 });
    expect(headers.get('retry-after')).toBe('2');
    expect(body.error).toEqual({
      message: 'Rate limit reached for requests',
      type: 'requests',
      param: null,
      code: 'rate_limit_exceeded',
    });
  });
});

describe('vector store files', () => {
  it('attach, list, retrieve, update, content and detach match the spec', async () => {
    h = await startEmulator({ pollAfterMs: 50 });
    const file = await upload('a.txt', 'alpha beta gamma');
    const store = (await call('POST', '/v1/vector_stores', {}, { json: { name: 's' } })).body;
    const params = { vector_store_id: store.id as string, file_id: file.id as string };
    const attached = await call('POST', '/v1/vector_stores/{vector_store_id}/files', params, {
      json: {
        file_id: file.id,
        attributes: { lang: 'en', year: 2026, draft: false },
        chunking_strategy: {
          type: 'static',
          static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 100 },
        },
      },
    });
    expect(attached.headers.get('openai-poll-after-ms')).toBe('50');
    expect(attached.body).toMatchObject({
      id: file.id,
      object: 'vector_store.file',
      status: 'in_progress',
      usage_bytes: 0,
      vector_store_id: store.id,
      last_error: null,
      chunking_strategy: {
        type: 'static',
        static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 100 },
      },
      attributes: { lang: 'en', year: 2026, draft: false },
    });

    await call('GET', '/v1/vector_stores/{vector_store_id}/files', params, {
      query: 'filter=completed&limit=3',
    });
    const retrieved = await call('GET', '/v1/vector_stores/{vector_store_id}/files/{file_id}', params);
    expect(retrieved.headers.get('openai-poll-after-ms')).toBe('50');
    expect(retrieved.body).toMatchObject({ status: 'completed', usage_bytes: 16 });
    const updated = await call('POST', '/v1/vector_stores/{vector_store_id}/files/{file_id}', params, {
      json: { attributes: { lang: 'de' } },
    });
    expect(updated.body.attributes).toEqual({ lang: 'de' });
    const content = await call('GET', '/v1/vector_stores/{vector_store_id}/files/{file_id}/content', params);
    expect(content.body).toEqual({
      object: 'vector_store.file_content.page',
      data: [{ type: 'text', text: 'alpha beta gamma' }],
      has_more: false,
      next_page: null,
    });
    const detached = await call('DELETE', '/v1/vector_stores/{vector_store_id}/files/{file_id}', params);
    expect(detached.body).toEqual({ id: file.id, object: 'vector_store.file.deleted', deleted: true });
    await call('GET', '/v1/files/{file_id}', params); // the File survives a detach
  });

  it('sends no openai-poll-after-ms unless asked: no recorded response carries it', async () => {
    const file = await upload('a.txt', 'x');
    const store = (await call('POST', '/v1/vector_stores', {}, { json: {} })).body;
    const storeParams = { vector_store_id: store.id as string };
    const params = { ...storeParams, file_id: file.id as string };
    const attached = await call('POST', '/v1/vector_stores/{vector_store_id}/files', params, {
      json: { file_id: file.id },
    });
    const retrieved = await call('GET', '/v1/vector_stores/{vector_store_id}/files/{file_id}', params);
    const batch = await call('POST', '/v1/vector_stores/{vector_store_id}/file_batches', storeParams, {
      json: { file_ids: [file.id] },
    });
    const batchParams = { ...storeParams, batch_id: batch.body.id as string };
    const polled = await call(
      'GET',
      '/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}',
      batchParams,
    );
    for (const { headers } of [attached, retrieved, batch, polled]) {
      expect(headers.has('openai-poll-after-ms')).toBe(false);
    }
  });

  it('auto chunking is reported as static 800/400 and attributes default to {}', async () => {
    const file = await upload('a.txt', 'x');
    const store = (await call('POST', '/v1/vector_stores', {}, { json: {} })).body;
    const { body } = await call(
      'POST',
      '/v1/vector_stores/{vector_store_id}/files',
      { vector_store_id: store.id as string },
      {
        json: { file_id: file.id, chunking_strategy: { type: 'auto' } },
      },
    );
    expect(body.chunking_strategy).toEqual({
      type: 'static',
      static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 },
    });
    expect(body.attributes).toEqual({});
  });

  it('validation errors name the parameter', async () => {
    const file = await upload('a.txt', 'x');
    const store = (await call('POST', '/v1/vector_stores', {}, { json: {} })).body;
    const params = { vector_store_id: store.id as string, file_id: file.id as string };
    const attach = (json: unknown, status = 400) =>
      call('POST', '/v1/vector_stores/{vector_store_id}/files', params, { json, status });
    const staticChunking = (max: number, overlap: number) => ({
      file_id: file.id,
      chunking_strategy: {
        type: 'static',
        static: { max_chunk_size_tokens: max, chunk_overlap_tokens: overlap },
      },
    });
    const cases: Array<[unknown, string, string]> = [
      [{}, 'file_id', 'missing_required_parameter'],
      [{ file_id: 'vs_1' }, 'file_id', 'invalid_value'],
      [
        {
          file_id: file.id,
          attributes: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])),
        },
        'attributes',
        'object_above_max_properties',
      ],
      [{ file_id: file.id, attributes: { k: 'v'.repeat(513) } }, 'attributes.k', 'string_above_max_length'],
      [{ file_id: file.id, attributes: { k: { nested: true } } }, 'attributes.k', 'invalid_type'],
      [{ file_id: file.id, attributes: { ['k'.repeat(65)]: 1 } }, 'attributes', 'invalid_value'],
      [staticChunking(99, 0), 'chunking_strategy.static.max_chunk_size_tokens', 'integer_below_min_value'],
      [staticChunking(4097, 0), 'chunking_strategy.static.max_chunk_size_tokens', 'integer_above_max_value'],
      [staticChunking(800, 401), 'chunking_strategy.static.chunk_overlap_tokens', 'invalid_value'],
      [{ file_id: file.id, chunking_strategy: { type: 'fancy' } }, 'chunking_strategy.type', 'invalid_value'],
    ];
    for (const [json, param, code] of cases) {
      const { body } = await attach(json);
      expect(body.error, JSON.stringify(json)).toMatchObject({ param, code });
    }
    await attach({ file_id: 'file-missing' }, 404);

    const list = (query: string, status = 400) =>
      call('GET', '/v1/vector_stores/{vector_store_id}/files', params, { query, status });
    expect((await list('filter=done')).body.error).toMatchObject({ param: 'filter', code: 'invalid_value' });
    expect((await list(`after=${file.id}`, 404)).body.error).toMatchObject({ param: 'after' });
    // Both cursors name the file, which is not in the store's list (pagination.test.ts covers both).
    expect((await list(`after=${file.id}&before=${file.id}`, 404)).body.error).toMatchObject({
      param: 'after',
    });

    await call('GET', '/v1/vector_stores/{vector_store_id}/files/{file_id}', params, { status: 404 });
    await call('POST', '/v1/vector_stores/{vector_store_id}/files/{file_id}', params, {
      json: { attributes: {} },
      status: 404,
    });
    await call('DELETE', '/v1/vector_stores/{vector_store_id}/files/{file_id}', params, { status: 404 });
    await call('GET', '/v1/vector_stores/{vector_store_id}/files/{file_id}/content', params, { status: 404 });
  });
});

describe('file batches', () => {
  it('create, retrieve, list files and cancel match the spec', async () => {
    h = await startEmulator({ pollAfterMs: 50 });
    const a = await upload('a.txt', 'first');
    const b = await upload('b.md', 'second');
    const store = (await call('POST', '/v1/vector_stores', {}, { json: {} })).body;
    const storeParams = { vector_store_id: store.id as string };
    const created = await call('POST', '/v1/vector_stores/{vector_store_id}/file_batches', storeParams, {
      json: { file_ids: [a.id, b.id], attributes: { source: 'batch' } },
    });
    expect(created.body).toMatchObject({
      status: 'in_progress',
      vector_store_id: store.id,
      file_counts: { in_progress: 2, completed: 0, failed: 0, cancelled: 0, total: 2 },
    });
    expect(created.body.id).toMatch(/^vsfb_[0-9a-f]{32}$/);

    const params = { ...storeParams, batch_id: created.body.id as string };
    const retrieved = await call(
      'GET',
      '/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}',
      params,
    );
    expect(retrieved.headers.get('openai-poll-after-ms')).toBe('50');
    expect(retrieved.body).toMatchObject({ status: 'completed', file_counts: { completed: 2, total: 2 } });
    const files = await call(
      'GET',
      '/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/files',
      params,
      {
        query: 'order=asc',
      },
    );
    expect((files.body.data as Json[]).map((file) => [file.id, file.attributes])).toEqual([
      [a.id, { source: 'batch' }],
      [b.id, { source: 'batch' }],
    ]);

    h.emulator.setProcessing({ hold: true });
    const held = await call('POST', '/v1/vector_stores/{vector_store_id}/file_batches', storeParams, {
      json: { files: [{ file_id: a.id, attributes: { n: 1 } }] },
    });
    const cancelled = await call(
      'POST',
      '/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel',
      {
        ...storeParams,
        batch_id: held.body.id as string,
      },
    );
    expect(cancelled.body).toMatchObject({ status: 'cancelled', file_counts: { cancelled: 1, total: 1 } });
  });

  it('validation errors name the parameter', async () => {
    const a = await upload('a.txt', 'first');
    const store = (await call('POST', '/v1/vector_stores', {}, { json: {} })).body;
    const params = { vector_store_id: store.id as string };
    const create = (json: unknown, status = 400) =>
      call('POST', '/v1/vector_stores/{vector_store_id}/file_batches', params, { json, status });
    const cases: Array<[unknown, string, string]> = [
      [{}, 'file_ids', 'missing_required_parameter'],
      [{ file_ids: [] }, 'file_ids', 'empty_array'],
      [{ file_ids: Array(2001).fill(a.id) }, 'file_ids', 'array_above_max_length'],
      [{ file_ids: [a.id], files: [{ file_id: a.id }] }, 'files', 'invalid_value'],
      [{ file_ids: [a.id, 'x'] }, 'file_ids[1]', 'invalid_value'],
      [{ files: [{ file_id: a.id, attributes: { k: [] } }] }, 'files[0].attributes.k', 'invalid_type'],
    ];
    for (const [json, param, code] of cases) {
      const { body } = await create(json);
      expect(body.error, JSON.stringify(json).slice(0, 100)).toMatchObject({ param, code });
    }
    expect((await create({ file_ids: ['file-missing'] }, 404)).body.error).toMatchObject({
      param: 'file_ids[0]',
    });

    const batch = { ...params, batch_id: 'vsfb_missing' };
    await call('GET', '/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}', batch, { status: 404 });
    await call('POST', '/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel', batch, {
      status: 404,
    });
    await call('GET', '/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/files', batch, {
      status: 404,
    });
    const wrong = await call(
      'GET',
      '/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}',
      { ...params, batch_id: 'vs_1' },
      { status: 400 },
    );
    expect(wrong.body.error).toMatchObject({
      message: "Invalid 'batch_id': 'vs_1'. Expected an ID that begins with 'vsfb_'.",
    });
  });
});

describe('chunking and search', () => {
  it('files report their strategy however attached, and search pages match the spec', async () => {
    const text = Array.from({ length: 80 }, (_, i) => `Line ${i} mentions vector search.`).join(' ');
    const a = await upload('a.txt', text);
    const b = await upload('b.md', text);
    const c = await upload('c.txt', 'A short text about search.');
    const created = await call(
      'POST',
      '/v1/vector_stores',
      {},
      {
        json: {
          file_ids: [a.id],
          chunking_strategy: {
            type: 'static',
            static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 50 },
          },
        },
      },
    );
    const storeParams = { vector_store_id: created.body.id as string };
    const batch = await call('POST', '/v1/vector_stores/{vector_store_id}/file_batches', storeParams, {
      json: {
        files: [
          { file_id: b.id, attributes: { lang: 'en' }, chunking_strategy: { type: 'auto' } },
          {
            file_id: c.id,
            chunking_strategy: {
              type: 'static',
              static: { max_chunk_size_tokens: 4096, chunk_overlap_tokens: 0 },
            },
          },
        ],
      },
    });
    const files = await call('GET', '/v1/vector_stores/{vector_store_id}/files', storeParams, {
      query: 'order=asc',
    });
    expect((files.body.data as Json[]).map((file) => file.chunking_strategy)).toEqual([
      { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 50 } },
      { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } },
      { type: 'static', static: { max_chunk_size_tokens: 4096, chunk_overlap_tokens: 0 } },
    ]);
    await call('GET', '/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/files', {
      ...storeParams,
      batch_id: batch.body.id as string,
    });

    const search = await call('POST', '/v1/vector_stores/{vector_store_id}/search', storeParams, {
      json: {
        query: ['vector search', 'short text'],
        max_num_results: 50,
        rewrite_query: false,
        ranking_options: { ranker: 'default-2024-11-15', score_threshold: 0.01 },
        filters: {
          type: 'or',
          filters: [
            { type: 'eq', key: 'lang', value: 'en' },
            { type: 'nin', key: 'lang', value: ['en', 'de'] },
          ],
        },
      },
    });
    expect(search.body).toMatchObject({
      search_query: ['vector search', 'short text'],
      has_more: false,
      next_page: null,
    });
    // Only b carries lang; a and c have none, so neither branch of the filter holds for them.
    const results = search.body.data as Json[];
    expect(new Set(results.map((result) => result.file_id))).toEqual(new Set([b.id]));
  });
});

describe('uploads', () => {
  it('create, add part, complete and cancel match the spec', async () => {
    const created = await call(
      'POST',
      '/v1/uploads',
      {},
      {
        json: {
          purpose: 'fine-tune',
          filename: 'uploads_test_file.jsonl',
          bytes: 8,
          mime_type: 'text/jsonl',
          expires_after: { anchor: 'created_at', seconds: 3600 },
        },
      },
    );
    expect(created.body).toMatchObject({ object: 'upload', status: 'pending' });
    expect(created.body).not.toHaveProperty('file');
    const params = { upload_id: created.body.id as string };
    const partIds: string[] = [];
    for (const bytes of [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]) {
      const form = new FormData();
      form.set('data', new File([new Uint8Array(bytes)], 'data', { type: 'application/octet-stream' }));
      const part = await call('POST', '/v1/uploads/{upload_id}/parts', params, { body: form });
      expect(Object.keys(part.body)).toEqual(['id', 'object', 'created_at', 'upload_id']);
      partIds.push(part.body.id as string);
    }
    const completed = await call('POST', '/v1/uploads/{upload_id}/complete', params, {
      json: { part_ids: partIds },
    });
    expect(completed.body).toMatchObject({
      status: 'completed',
      file: { object: 'file', bytes: 8, purpose: 'fine-tune', created_at: created.body.created_at },
    });
    // The spec's Upload schema requires no `object`, and the nested file must validate as a File.
    validate('#/components/schemas/OpenAIFile', fileToSpec(completed.body.file as Json));

    const other = await call(
      'POST',
      '/v1/uploads',
      {},
      { json: { purpose: 'assistants', filename: 'a.txt', bytes: 1, mime_type: 'text/plain' } },
    );
    const cancelled = await call('POST', '/v1/uploads/{upload_id}/cancel', {
      upload_id: other.body.id as string,
    });
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    expect(cancelled.body).not.toHaveProperty('file');
  });

  it('errors use the OpenAI envelope, with the Files API detail', async () => {
    const missing = await call(
      'POST',
      '/v1/uploads/{upload_id}/cancel',
      { upload_id: 'upload_nope' },
      { status: 404 },
    );
    expect(missing.body).toEqual({
      error: {
        message: 'No such Upload object: upload_nope',
        type: 'invalid_request_error',
        param: 'id',
        code: null,
      },
      detail: { message: 'No such Upload object: upload_nope', code: null },
    });
    const invalid = await call('POST', '/v1/uploads', {}, { json: { purpose: 'vision' }, status: 400 });
    expect(invalid.body.error).toMatchObject({ param: 'filename', code: 'missing_required_parameter' });
    const upload = await call(
      'POST',
      '/v1/uploads',
      {},
      { json: { purpose: 'vision', filename: 'a.png', bytes: 3, mime_type: 'image/png' } },
    );
    const params = { upload_id: upload.body.id as string };
    const short = await call('POST', '/v1/uploads/{upload_id}/complete', params, {
      json: { part_ids: [] },
      status: 400,
    });
    expect(short.body.error).toMatchObject({ param: 'part_ids', code: 'invalid_value' });
    await call('POST', '/v1/uploads/{upload_id}/cancel', params);
    const form = new FormData();
    form.set('data', new File(['abc'], 'data'));
    await call('POST', '/v1/uploads/{upload_id}/parts', params, { body: form, status: 400 });
  });
});

describe('the documented deviations', () => {
  it('are real: the spec rejects the raw wire forms that the normalisers rewrite', async () => {
    const store = (await call('POST', '/v1/vector_stores', {}, { json: {} })).body;
    const file = await upload('a.txt', 'x');
    const batch = (
      await call(
        'POST',
        '/v1/vector_stores/{vector_store_id}/file_batches',
        { vector_store_id: store.id as string },
        {
          json: { file_ids: [file.id] },
        },
      )
    ).body;
    const rejects = (ref: string, body: unknown) =>
      expect(ajv.getSchema(`openapi.json#/components/schemas/${ref}`)!(body)).toBe(false);
    rejects('VectorStoreFileBatchObject', batch);
    rejects('VectorStoreObject', { ...vectorStoreToSpec(store), name: null });
    rejects('VectorStoreObject', { ...vectorStoreToSpec(store), expires_after: null });
    rejects('OpenAIFile', file);
    rejects('ListFilesResponse', {
      object: 'list',
      data: [],
      first_id: null,
      last_id: null,
      has_more: false,
    });

    const pending = (
      await call(
        'POST',
        '/v1/uploads',
        {},
        { json: { purpose: 'assistants', filename: 'a.txt', bytes: 0, mime_type: 'text/plain' } },
      )
    ).body;
    const completed = (
      await call(
        'POST',
        '/v1/uploads/{upload_id}/complete',
        { upload_id: pending.id as string },
        {
          json: { part_ids: [] },
        },
      )
    ).body;
    rejects('Upload', completed); // the nested File's status_details: null
    rejects('Upload', { ...completed, file: { id: 'file-x' } }); // the nested File is validated at all
  });

  it('are the only ones: the schema forms the emulator follows are enforced', async () => {
    const store = (await call('POST', '/v1/vector_stores', {}, { json: {} })).body;
    const page = (
      await call(
        'POST',
        '/v1/vector_stores/{vector_store_id}/search',
        { vector_store_id: store.id as string },
        {
          json: { query: 'x' },
        },
      )
    ).body;
    const schema = ajv.getSchema('openapi.json#/components/schemas/VectorStoreSearchResultsPage')!;
    expect(schema(page)).toBe(true);
    // The operation's doc example shows search_query as a plain string; the schema does not allow it.
    expect(schema({ ...page, search_query: 'x' })).toBe(false);
  });
});

describe('auth and routing', () => {
  it('rejects a missing key and, with apiKeys, an unknown one', async () => {
    h = await startEmulator({ apiKeys: ['sk-good-key-123456'] });
    const none = await h.api('/vector_stores', { headers: { authorization: '' } });
    expect(none.status).toBe(401);
    expect(none.headers.get('x-request-id')).toMatch(/^req_/);
    const noneBody = (await none.json()) as Json;
    validate('#/components/schemas/ErrorResponse', noneBody);
    expect((noneBody.error as Json).message).toMatch(/^You didn't provide an API key/);

    const wrong = await h.api('/vector_stores', { headers: { authorization: 'Bearer sk-ab1234wxyz' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as Json).error).toEqual({
      message:
        'Incorrect API key provided: sk-ab****wxyz. You can find your API key at https://platform.openai.com/account/api-keys.',
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    });
    expect((await h.api('/vector_stores')).status).toBe(200);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await h.api('/assistants');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(((await response.json()) as Json).error).toMatchObject({
      message: 'Invalid URL (GET /v1/assistants)',
    });
    expect(h.emulator.stats().byRoute).toEqual({ 'GET (unmatched)': 1 });
  });
});
