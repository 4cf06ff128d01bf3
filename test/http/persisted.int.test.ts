import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, print } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConfigError, loadConfig } from '../../src/config.ts';
import {
  APQ_MAX_ENTRIES,
  APQ_MAX_QUERY_LENGTH,
  BoundedQueryStore,
} from '../../src/http/use-persisted-operations.ts';
import { type GraphQLResponse, seedStore, startGateway, type TestGateway } from '../support/gateway.ts';
import {
  CLOSING,
  filePartHead,
  multipartHead,
  openMultipart,
  PREFLIGHT,
  readJson,
  UPLOAD_FILES,
  type UploadFilesData,
  uploadWithFormData,
} from '../support/multipart.ts';

/** What Apollo's persisted-query link sends: the printed document, and the sha256 of that text. */
function apolloPrinted(source: string): { query: string; hash: string } {
  const query = print(parse(source));
  return { query, hash: createHash('sha256').update(query).digest('hex') };
}

function persistedQuery(hash: string) {
  return { persistedQuery: { version: 1, sha256Hash: hash } };
}

interface Answer<TData = Record<string, unknown>> extends GraphQLResponse<TData> {
  status: number;
  extensions?: Record<string, unknown>;
}

async function post<TData = Record<string, unknown>>(
  gateway: TestGateway,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Answer<TData>> {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, ...((await response.json()) as GraphQLResponse<TData>) };
}

async function get<TData = Record<string, unknown>>(
  gateway: TestGateway,
  params: Record<string, unknown>,
  headers: Record<string, string> = PREFLIGHT,
): Promise<Answer<TData>> {
  const url = new URL(gateway.url);
  for (const [name, value] of Object.entries(params)) {
    url.searchParams.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  }
  const response = await fetch(url, { headers });
  return { status: response.status, ...((await response.json()) as GraphQLResponse<TData>) };
}

const codeOf = (answer: GraphQLResponse<unknown>) => answer.errors?.[0]?.extensions?.code;

const STORES = apolloPrinted('query Stores { vectorStores(first: 5) { nodes { name } } }');

describe('automatic persisted queries (APQ, the default)', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway();
    await seedStore(gateway.openai, { name: 'APQ store' });
  });
  afterAll(() => gateway.close());

  it('answers an unknown hash PersistedQueryNotFound, then runs it once registered (POST)', async () => {
    const { query, hash } = apolloPrinted('query StoresByPost { vectorStores(first: 5) { nodes { name } } }');
    gateway.resetUpstreamCalls();
    const unknown = await post(gateway, { extensions: persistedQuery(hash) });
    expect(unknown.status).toBe(404);
    expect(unknown.errors?.[0]).toMatchObject({
      message: 'PersistedQueryNotFound',
      extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
    });
    expect(gateway.upstreamCalls()).toBe(0);

    const registered = await post(gateway, { query, extensions: persistedQuery(hash) });
    expect(registered.data).toEqual({ vectorStores: { nodes: [{ name: 'APQ store' }] } });

    const byHash = await post(gateway, { extensions: persistedQuery(hash) });
    expect(byHash.data).toEqual(registered.data);
    expect(byHash.extensions).toMatchObject({ cost: { upstreamCalls: 1 } });
  });

  it('works over GET as Apollo sends it (hash in the URL, a preflight header), and GET needs that header', async () => {
    const unknown = await get(gateway, { extensions: persistedQuery(STORES.hash) });
    expect(unknown.status).toBe(404);
    expect(codeOf(unknown)).toBe('PERSISTED_QUERY_NOT_FOUND');

    // Apollo's link retries with the text, over GET too when useGETForHashedQueries is set.
    const registered = await get(gateway, { query: STORES.query, extensions: persistedQuery(STORES.hash) });
    expect(registered.data).toEqual({ vectorStores: { nodes: [{ name: 'APQ store' }] } });
    const byHash = await get(gateway, { extensions: persistedQuery(STORES.hash), operationName: 'Stores' });
    expect(byHash.data).toEqual(registered.data);

    // A hash alone runs an operation: a cross-site page may not make a browser send it unasked.
    gateway.resetUpstreamCalls();
    const unpreflighted = await get(gateway, { extensions: persistedQuery(STORES.hash) }, {});
    expect(unpreflighted.status).toBe(403);
    expect(codeOf(unpreflighted)).toBe('CSRF_PREFLIGHT_REQUIRED');
    expect(gateway.upstreamCalls()).toBe(0);
  });

  it('refuses a hash that is not the text’s, and keeps nothing under it', async () => {
    const other = apolloPrinted('{ credentials { name } }');
    const mismatch = await post(gateway, {
      query: other.query,
      extensions: persistedQuery(STORES.hash.replace(/^./, '0')),
    });
    expect(mismatch.status).toBe(400);
    expect(codeOf(mismatch)).toBe('PERSISTED_QUERY_MISMATCH');
    expect(codeOf(await post(gateway, { extensions: persistedQuery(other.hash) }))).toBe(
      'PERSISTED_QUERY_NOT_FOUND',
    );
  });

  it('runs a query longer than APQ_MAX_QUERY_LENGTH but does not keep it', async () => {
    // Comments are not tokens: the query stays within the token limit whatever its length.
    const query = `# ${'x'.repeat(APQ_MAX_QUERY_LENGTH)}\n{ credentials { name } }`;
    const hash = createHash('sha256').update(query).digest('hex');
    const ran = await post(gateway, { query, extensions: persistedQuery(hash) });
    expect(ran.data).toEqual({ credentials: [{ name: 'default' }] });
    expect(codeOf(await post(gateway, { extensions: persistedQuery(hash) }))).toBe(
      'PERSISTED_QUERY_NOT_FOUND',
    );
  });

  it('keeps at most APQ_MAX_ENTRIES hashes, dropping the least recently used', () => {
    // The store APQ gets, with its defaults; filled directly, as a thousand registrations would.
    const store = new BoundedQueryStore();
    store.set('first', '{ a }');
    store.set('second', '{ b }');
    for (let index = 0; index < APQ_MAX_ENTRIES - 1; index++) {
      if (index % 100 === 0) expect(store.get('second')).toBe('{ b }');
      store.set(`filler-${index}`, '{ __typename }');
    }
    expect(store.size).toBe(APQ_MAX_ENTRIES);
    expect(store.get('first')).toBeUndefined();
    expect(store.get('second')).toBe('{ b }');
    store.set('long', 'x'.repeat(APQ_MAX_QUERY_LENGTH + 1));
    expect(store.get('long')).toBeUndefined();
  });

  it('lets any other operation run as before', async () => {
    expect((await post(gateway, { query: '{ credentials { name } }' })).data).toEqual({
      credentials: [{ name: 'default' }],
    });
    expect(gateway.app.persisted.mode).toBe('apq');
  });
});

// A manifest with both kinds of id: GraphQL Code Generator's (the document's sha256) and Relay's (any string).
const CODEGEN = apolloPrinted('query CodegenStores { vectorStores(first: 5) { nodes { name } } }');
const RELAY_ID = 'relay:StoreNamesQuery';
const RELAY_TEXT = 'query StoreNamesQuery { vectorStores(first: 5) { nodes { id name } } }';
/** 100 stores with 100 files each and their details: priced 201 upstream calls, over the 150 allowed. */
const EXPENSIVE = apolloPrinted(
  'query Everything { vectorStores(first: 100) { nodes { files(first: 100) { nodes { file { filename } } } } } }',
);
const UPLOAD = apolloPrinted(UPLOAD_FILES);
const WATCH = apolloPrinted('subscription Watch($id: ID!) { vectorStore(id: $id) { name status } }');
const DELETE = apolloPrinted(
  'mutation Delete($id: ID!) { deleteVectorStore(input: { id: $id }) { __typename } }',
);

const MANIFEST: Record<string, string> = {
  [CODEGEN.hash]: CODEGEN.query,
  [RELAY_ID]: RELAY_TEXT,
  [EXPENSIVE.hash]: EXPENSIVE.query,
  [UPLOAD.hash]: UPLOAD.query,
  [WATCH.hash]: WATCH.query,
  [DELETE.hash]: DELETE.query,
};

describe('trusted documents', () => {
  let gateway: TestGateway;
  let storeId: string;
  beforeAll(async () => {
    gateway = await startGateway({ app: { trustedDocuments: MANIFEST } });
    storeId = (await seedStore(gateway.openai, { name: 'Trusted store' })).storeId;
  });
  afterAll(() => gateway.close());

  it('runs a document by its hash (Apollo, GraphQL Code Generator) or its id (Relay), over POST and GET', async () => {
    const expected = { vectorStores: { nodes: [{ name: 'Trusted store' }] } };
    expect((await post(gateway, { extensions: persistedQuery(CODEGEN.hash) })).data).toEqual(expected);
    expect((await get(gateway, { extensions: persistedQuery(CODEGEN.hash) })).data).toEqual(expected);
    for (const field of ['documentId', 'doc_id']) {
      const byPost = await post<{ vectorStores: { nodes: Array<{ name: string }> } }>(gateway, {
        [field]: RELAY_ID,
      });
      expect(byPost.data?.vectorStores.nodes.map((store) => store.name)).toEqual(['Trusted store']);
      const byGet = await get(gateway, { [field]: RELAY_ID });
      expect(byGet.data).toEqual(byPost.data);
    }
    expect(gateway.app.persisted.mode).toBe('trusted');
  });

  it('refuses any text, an id not in the manifest, and a request naming none, before any upstream call', async () => {
    gateway.resetUpstreamCalls();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ query: '{ vectorStores(first: 5) { nodes { name } } }' }, 'PERSISTED_QUERY_ONLY'],
      // Even a manifest document's own text: clients send ids, anything else may be forged.
      [{ query: CODEGEN.query }, 'PERSISTED_QUERY_ONLY'],
      // APQ's registration is off.
      [{ query: CODEGEN.query, extensions: persistedQuery(CODEGEN.hash) }, 'PERSISTED_QUERY_ONLY'],
      [{ extensions: persistedQuery(STORES.hash) }, 'PERSISTED_QUERY_NOT_IN_LIST'],
      [{ documentId: 'relay:Unknown' }, 'PERSISTED_QUERY_NOT_IN_LIST'],
      [{ variables: {} }, 'PERSISTED_QUERY_ID_REQUIRED'],
    ];
    for (const [body, code] of cases) {
      const byPost = await post(gateway, body);
      expect([byPost.status, codeOf(byPost), byPost.data]).toEqual([400, code, undefined]);
      expect(byPost.errors?.[0]?.message).toMatch(/trusted document|names no operation/);
      const byGet = await get(gateway, body);
      expect([byGet.status, codeOf(byGet)]).toEqual([400, code]);
    }
    expect(gateway.upstreamCalls()).toBe(0);
  });

  it('gives graphql-ws the same answers through app.persisted.resolve', async () => {
    const cases: Array<Record<string, unknown>> = [
      { query: CODEGEN.query },
      { extensions: persistedQuery(CODEGEN.hash) },
      { extensions: persistedQuery(STORES.hash) },
      { documentId: RELAY_ID },
      { doc_id: RELAY_ID },
      { doc_id: 'relay:Unknown' },
      {},
    ];
    for (const params of cases) {
      const overHttp = await post(gateway, params);
      const resolved = gateway.app.persisted.resolve(params);
      if ('refusal' in resolved) {
        expect(resolved.refusal.extensions.code).toBe(codeOf(overHttp));
        expect(resolved.refusal.message).toBe(overHttp.errors?.[0]?.message);
      } else {
        expect(overHttp.errors).toBeUndefined();
        expect(Object.values(MANIFEST)).toContain(resolved.query);
      }
    }
  });

  it('holds over graphql-ws: a document named by its hash runs, any text is refused', async () => {
    const client = createClient({ url: gateway.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    const run = async (payload: { query: string; extensions?: Record<string, unknown> }) => {
      const results: Array<{ data?: unknown; errors?: ReadonlyArray<{ extensions?: { code?: unknown } }> }> =
        [];
      try {
        for await (const result of client.iterate(payload)) results.push(result as never);
      } catch (errors) {
        return { errors: errors as ReadonlyArray<{ extensions?: { code?: unknown } }> };
      }
      return results[0]!;
    };
    try {
      gateway.resetUpstreamCalls();
      const text = await run({ query: CODEGEN.query });
      expect(text.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
      const unknown = await run({ query: '', extensions: persistedQuery(STORES.hash) });
      expect(unknown.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      expect(gateway.upstreamCalls()).toBe(0);
      const named = await run({ query: '', extensions: persistedQuery(CODEGEN.hash) });
      expect(named.data).toEqual({ vectorStores: { nodes: [{ name: 'Trusted store' }] } });
    } finally {
      await client.dispose();
    }
  });

  it('still applies the cost limit to a trusted document', async () => {
    gateway.resetUpstreamCalls();
    const answer = await post(gateway, { extensions: persistedQuery(EXPENSIVE.hash) });
    expect(answer.data).toBeUndefined();
    expect(answer.errors?.[0]?.extensions).toMatchObject({
      code: 'QUERY_TOO_EXPENSIVE',
      cost: 201,
      limit: 150,
    });
    expect(gateway.upstreamCalls()).toBe(0);
  });

  it('runs no trusted mutation over GET', async () => {
    const refused = await get(gateway, {
      extensions: persistedQuery(DELETE.hash),
      variables: { id: storeId },
    });
    expect(refused.status).toBe(405);
    expect((await gateway.openai.vectorStores.retrieve(storeId)).id).toBe(storeId);
  });

  it('streams a trusted subscription over SSE, and refuses text there too', async () => {
    const byId = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ extensions: persistedQuery(WATCH.hash), variables: { id: storeId } }),
    });
    expect(byId.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await byId.text();
    expect(events).toContain('"name":"Trusted store"');
    expect(events).toContain('event: complete');

    for (const method of ['POST', 'GET'] as const) {
      gateway.resetUpstreamCalls();
      const params = { query: WATCH.query, variables: JSON.stringify({ id: storeId }) };
      const url = new URL(gateway.url);
      if (method === 'GET')
        for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
      const refused = await fetch(url, {
        method,
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...PREFLIGHT },
        ...(method === 'POST'
          ? { body: JSON.stringify({ query: WATCH.query, variables: { id: storeId } }) }
          : {}),
      });
      const text = await refused.text();
      expect(text).toContain('PERSISTED_QUERY_ONLY');
      expect(text).not.toContain('Trusted store');
      expect(gateway.upstreamCalls()).toBe(0);
    }
  });

  it('refuses an upload by its text once its operations are read, before a byte of its file goes upstream', async () => {
    gateway.resetUpstreamCalls();
    const { req, response } = openMultipart(gateway);
    req.write(
      multipartHead({ input: { vectorStoreId: storeId, files: [null] } }, { 0: ['variables.input.files.0'] }),
    );
    req.write(filePartHead('0', 'held.txt'));
    // The file has begun and does not end until the answer is in.
    req.write('x'.repeat(64 * 1024));
    const answer = await readJson<GraphQLResponse>(await response);
    expect(codeOf(answer)).toBe('PERSISTED_QUERY_ONLY');
    req.end(`${'x'.repeat(1024)}${CLOSING}`);
    expect(gateway.upstreamCalls()).toBe(0);
    expect(gateway.emulator.stats().byRoute['POST /v1/files']).toBeUndefined();
  });

  it('runs a trusted upload named by its hash', async () => {
    const form = new FormData();
    form.append(
      'operations',
      JSON.stringify({
        extensions: persistedQuery(UPLOAD.hash),
        variables: { input: { vectorStoreId: storeId, files: [null] } },
      }),
    );
    form.append('map', JSON.stringify({ 0: ['variables.input.files.0'] }));
    form.append('0', new Blob(['trusted bytes'], { type: 'text/plain' }), 'trusted.txt');
    const response = await fetch(gateway.url, { method: 'POST', headers: PREFLIGHT, body: form });
    const answer = (await response.json()) as GraphQLResponse<UploadFilesData>;
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.uploadFiles.files?.map((file) => file.file?.filename)).toEqual(['trusted.txt']);

    // The same mutation sent as text, the way Apollo's upload link sends it, is refused.
    const byText = await uploadWithFormData(gateway, { vectorStoreId: storeId }, [
      { name: 'refused.txt', content: 'no' },
    ]);
    expect(codeOf(byText)).toBe('PERSISTED_QUERY_ONLY');
  });
});

describe('TRUSTED_DOCUMENTS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trusted-'));
  const write = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('loads a manifest, and refuses one that is not valid for this schema with one line', () => {
    const good = write('good.json', JSON.stringify(MANIFEST));
    expect(loadConfig({ TRUSTED_DOCUMENTS: good }).trustedDocuments).toEqual(MANIFEST);
    expect(loadConfig({}).trustedDocuments).toBeUndefined();

    const problems: Array<[string, RegExp]> = [
      [write('missing.json', '{}'), /holds no document/],
      [write('list.json', '["{ a }"]'), /JSON object mapping/],
      [write('broken.json', '{"a":'), /not valid JSON/],
      [
        write('other-api.json', JSON.stringify({ id: '{ users { name } }' })),
        /document 'id' is not valid here: .*users/,
      ],
      [join(dir, 'absent.json'), /cannot read .*ENOENT/],
    ];
    for (const [path, message] of problems) {
      expect(() => loadConfig({ TRUSTED_DOCUMENTS: path })).toThrow(ConfigError);
      expect(() => loadConfig({ TRUSTED_DOCUMENTS: path })).toThrow(message);
    }
  });
});
