import { Agent, request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalId, encodeGlobalId } from '../../src/schema/ids.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  type GraphQLBody,
  malformation,
  type RawResponse,
  STACK_TRACE,
  send,
  watchProcess,
} from './support.ts';

/**
 * 1,000 generated bad requests (fast-check, fixed seed): bodies that are not JSON or not GraphQL
 * requests, wrong variable types, unknown operations, bad and wrong-kind ids, page sizes out of
 * range, operations too deep, too wide or too costly, bodies over the limit, content types no
 * parser takes, other methods, broken multipart forms (`__proto__` and inherited-property map
 * paths among them), and mutation inputs that break OpenAI's rules.
 *
 * Each must get a 4xx or a GraphQL error (or, for a mutation, an InvalidInputError as data) with
 * a message, never a 5xx or "Unexpected error.", without one upstream call, and without changing
 * any built-in prototype.
 */
const RUNS = 1000;
const SEED = 20261123;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Case {
  category: string;
  method: Method;
  /** The query string of a GET. */
  search?: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | (() => ReadableStream<Uint8Array>);
  /** Statuses this request may get; default: any 4xx, or 200 with errors. */
  statuses?: number[];
  /** The mutation field whose result must be an InvalidInputError, when it reaches execution. */
  asData?: string;
  /** Whether the mutation of a valid request may still succeed (it never reaches OpenAI). */
  maySucceed?: boolean;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const CSRF = { 'x-graphql-yoga-csrf': '1' };
const BOUNDARY = 'fuzz-boundary';
const MULTIPART = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, ...CSRF };

function graphql(category: string, query: unknown, variables?: unknown, extra: Partial<Case> = {}): Case {
  return {
    category,
    method: 'POST',
    headers: JSON_TYPE,
    body: JSON.stringify({ query, variables }),
    ...extra,
  };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function isValidId(value: string): boolean {
  try {
    decodeGlobalId(value);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Generators, one per kind of mistake.

const anyText = fc.string({ unit: 'grapheme', maxLength: 120 });
const nonString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
);
const nonObject = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.string({ minLength: 1, maxLength: 10 }),
  fc.array(fc.integer(), { maxLength: 2 }),
);

const badJson: fc.Arbitrary<Case> = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc
      .constantFrom(
        JSON.stringify({ query: '{ credentials { name } }' }),
        JSON.stringify({
          query: 'query ($id: ID!) { vectorStore(id: $id) { name } }',
          variables: { id: 'vs_a' },
        }),
      )
      .chain((text) => fc.integer({ min: 1, max: text.length - 1 }).map((cut) => text.slice(0, cut))),
  )
  .filter((text) => !isJson(text))
  .map((body) => ({ category: 'invalid JSON', method: 'POST', headers: JSON_TYPE, body, statuses: [400] }));

const notAnObject: fc.Arbitrary<Case> = fc
  .oneof(
    fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
    fc.integer(),
    fc.string(),
    fc.constant(null),
    fc.boolean(),
  )
  .map((value) => ({
    category: 'JSON that is not a request',
    method: 'POST',
    headers: JSON_TYPE,
    body: JSON.stringify(value),
    statuses: [400],
  }));

const badParams: fc.Arbitrary<Case> = fc
  .oneof(
    nonString.map((query) => ({ query })),
    nonObject.map((variables) => ({ query: '{ credentials { name } }', variables })),
    nonObject.map((extensions) => ({ query: '{ credentials { name } }', extensions })),
    fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string())).map((operationName) => ({
      query: '{ credentials { name } }',
      operationName,
    })),
    fc.constantFrom({}, { query: '' }, { variables: {} }, { query: null }),
    fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((key) => !['query', 'variables', 'operationName', 'extensions'].includes(key))
      .map((key) => ({ query: '{ credentials { name } }', [key]: 1 })),
    fc.constant(
      JSON.parse('{"query": "{ credentials { name } }", "__proto__": {"query": "{ __typename }"}}'),
    ),
  )
  .map((request) => ({
    category: 'request fields of the wrong type',
    method: 'POST',
    headers: JSON_TYPE,
    body: JSON.stringify(request),
  }));

const NO_UPSTREAM_QUERIES = [
  '{ credentials { name selected } }',
  'query Names { credentials { name } __typename }',
  '{ __schema { queryType { name } } }',
  'query ($x: Int = 3) { credentials { name } }',
];

const badSyntax: fc.Arbitrary<Case> = fc.oneof(
  anyText.map((query) => graphql('documents that do not parse or validate', query)),
  fc
    .tuple(
      fc.constantFrom(...NO_UPSTREAM_QUERIES),
      fc.nat(),
      fc.constantFrom('', '{', '}', '(', '$', '@', '...', '"', 'x'),
    )
    .map(([query, at, insert]) => {
      const position = at % query.length;
      const mutated = query.slice(0, position) + insert + query.slice(position + 1);
      // One character changed can leave a valid document, which then just runs (no upstream).
      return graphql('documents that do not parse or validate', mutated, undefined, { maySucceed: true });
    }),
  fc
    .constantFrom(
      'fragment A on Query { ...B } fragment B on Query { ...A } { ...A }',
      '{ credentials { name } } { credentials { name } }',
      'query { nope }',
      'subscription { credentials { name } }',
      '{ vectorStore { name } }',
      '{ credentials }',
      'mutation { createVectorStore { __typename } }',
      '{ credentials { name(x: 1) } }',
    )
    .map((query) => graphql('documents that do not parse or validate', query)),
);

const unknownOperation: fc.Arbitrary<Case> = fc.oneof(
  fc
    .option(
      fc.string({ maxLength: 20 }).filter((name) => name !== 'A' && name !== 'B'),
      { nil: undefined },
    )
    .map((operationName) => ({
      category: 'unknown operations',
      method: 'POST' as const,
      headers: JSON_TYPE,
      body: JSON.stringify({
        query: 'query A { credentials { name } } query B { __typename }',
        operationName,
      }),
      statuses: [400],
    })),
  fc
    .string({ minLength: 1, maxLength: 20 })
    .filter((name) => name !== 'Only')
    .map((operationName) => ({
      category: 'unknown operations',
      method: 'POST' as const,
      headers: JSON_TYPE,
      body: JSON.stringify({ query: 'query Only { credentials { name } }', operationName }),
      statuses: [400],
    })),
);

const nonInteger = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((value) => !Number.isInteger(value)),
  fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -(2 ** 31) - 1 }),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);
const notAnId = fc.oneof(
  fc.boolean(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((value) => !Number.isInteger(value)),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
  fc.array(fc.string({ maxLength: 3 }), { minLength: 1, maxLength: 2 }),
  fc.constant(null),
  fc.constant(undefined),
);

const wrongVariables: fc.Arbitrary<Case> = fc
  .oneof(
    notAnId.map((id) => ['query ($id: ID!) { vectorStore(id: $id) { id } }', { id }] as const),
    nonInteger.map((n) => ['query ($n: Int) { vectorStores(first: $n) { nodes { id } } }', { n }] as const),
    fc
      .oneof(
        fc.constant(null),
        fc.array(fc.oneof(fc.constant(null), fc.boolean()), { minLength: 1, maxLength: 3 }),
      )
      .map((ids) => ['query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids }] as const),
    fc
      .oneof(
        fc.string({ maxLength: 8 }).filter((value) => value !== 'ASC' && value !== 'DESC'),
        fc.integer(),
      )
      .map(
        (order) =>
          ['query ($o: SortOrder) { files(first: 1, order: $o) { nodes { id } } }', { o: order }] as const,
      ),
    fc
      .oneof(
        fc.constant(null),
        fc.string({ maxLength: 8 }),
        fc.record({ bogus: fc.integer() }),
        fc.record({ name: fc.oneof(fc.integer(), fc.boolean()) }),
        fc.record({ fileIds: fc.oneof(fc.boolean(), fc.constant([null])) }),
        fc.record({ expiresAfter: fc.constant({ anchor: 'last_active_at' }) }),
        fc.record({
          metadata: fc.oneof(fc.string(), fc.integer(), fc.array(fc.integer(), { maxLength: 2 })),
        }),
      )
      .map(
        (input) =>
          [
            'mutation ($input: CreateVectorStoreInput!) { createVectorStore(input: $input) { __typename } }',
            { input },
          ] as const,
      ),
    fc
      .oneof(fc.string({ maxLength: 5 }), fc.integer())
      .map(
        (flag) =>
          [
            'mutation ($d: Boolean) { deleteVectorStore(input: { id: "vs_abc", deleteFiles: $d }) { __typename } }',
            { d: flag },
          ] as const,
      ),
  )
  .map(([query, variables]) => graphql('variables of the wrong type', query, variables));

const BAD_ID_SHAPES = [
  '',
  ' ',
  'vs_',
  'vs-abc',
  'file_abc',
  'file-',
  `file-${'a'.repeat(65)}`,
  `vs_${'a'.repeat(65)}`,
  'vsfb_123',
  'vs_abc:file-abc',
  encodeGlobalId('VectorStore', 'bad'),
  encodeGlobalId('Nope', 'vs_abc'),
  encodeGlobalId('VectorStoreFile', 'vs_a:file-b:extra'),
  encodeGlobalId('FileBatch', 'vs_a'),
  Buffer.from('VectorStore:vs_abc').toString('base64'),
  '../../v1/files',
  'vs_abc?limit=1',
  'vs_abc/files',
  'vs_a%2Fb',
];

const badId = fc
  .oneof(fc.constantFrom(...BAD_ID_SHAPES), fc.string({ unit: 'grapheme', maxLength: 90 }))
  .filter((id) => !isValidId(id));

const ID_QUERIES = [
  'query ($id: ID!) { vectorStore(id: $id) { id name } }',
  'query ($id: ID!) { file(id: $id) { id filename } }',
  'query ($id: ID!) { node(id: $id) { id } }',
  'query ($id: ID!) { nodes(ids: [$id, $id]) { id } }',
  'query ($id: ID!) { vectorStore(id: $id) { search(query: "x") { score } } }',
];
const ID_MUTATIONS: Array<[field: string, query: string]> = [
  [
    'updateVectorStore',
    'mutation ($id: ID!) { updateVectorStore(input: { id: $id, name: "x" }) { __typename ... on MutationError { message } } }',
  ],
  [
    'deleteVectorStore',
    'mutation ($id: ID!) { deleteVectorStore(input: { id: $id }) { __typename ... on MutationError { message } } }',
  ],
  [
    'addFiles',
    'mutation ($id: ID!) { addFiles(input: { vectorStoreId: $id, fileIds: ["file-abc"] }) { __typename ... on MutationError { message } } }',
  ],
  [
    'addFiles',
    'mutation ($id: ID!) { addFiles(input: { vectorStoreId: "vs_abc", fileIds: ["file-abc", $id] }) { __typename ... on MutationError { message } } }',
  ],
  [
    'removeFiles',
    'mutation ($id: ID!) { removeFiles(input: { vectorStoreId: "vs_abc", fileIds: [$id] }) { __typename ... on MutationError { message } } }',
  ],
  [
    'cancelFileBatch',
    'mutation ($id: ID!) { cancelFileBatch(input: { vectorStoreId: "vs_abc", batchId: $id }) { __typename ... on MutationError { message } } }',
  ],
  [
    'updateVectorStoreFile',
    'mutation ($id: ID!) { updateVectorStoreFile(input: { vectorStoreId: $id, fileId: "file-abc", attributes: {} }) { __typename ... on MutationError { message } } }',
  ],
];

const invalidIds: fc.Arbitrary<Case> = fc.oneof(
  fc.tuple(fc.constantFrom(...ID_QUERIES), badId).map(([query, id]) => graphql('invalid ids', query, { id })),
  // A well-formed id of the wrong kind.
  fc
    .constantFrom('file-abc', encodeGlobalId('File', 'file-abc'), encodeGlobalId('FileBatch', 'vs_a:vsfb_b'))
    .map((id) => graphql('invalid ids', 'query ($id: ID!) { vectorStore(id: $id) { id } }', { id })),
  fc
    .tuple(fc.constantFrom(...ID_MUTATIONS), badId)
    .filter(([[field], id]) => !(field === 'cancelFileBatch' && /^vsfb_[A-Za-z0-9_]{1,80}$/.test(id)))
    .map(([[field, query], id]) => graphql('invalid ids', query, { id }, { asData: field })),
);

const outOfRange = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 0 }),
  fc.integer({ min: 101, max: 2 ** 31 - 1 }),
);
const pageBounds: fc.Arbitrary<Case> = fc.oneof(
  fc
    .tuple(fc.constantFrom('vectorStores', 'files'), fc.constantFrom('first', 'last'), outOfRange)
    .map(([field, arg, size]) =>
      graphql('page sizes out of range', `{ ${field}(${arg}: ${size}) { nodes { id } } }`),
    ),
  fc.tuple(fc.constantFrom('vectorStores', 'files'), outOfRange).map(([field, size]) =>
    graphql('page sizes out of range', `query ($n: Int) { ${field}(first: $n) { nodes { id } } }`, {
      n: size,
    }),
  ),
  fc
    .tuple(fc.constantFrom('vectorStores', 'files'), fc.bigInt({ min: 2n ** 31n, max: 2n ** 64n }))
    .map(([field, size]) =>
      graphql('page sizes out of range', `{ ${field}(first: ${size}) { nodes { id } } }`),
    ),
  fc
    .constantFrom(
      '{ vectorStores(first: 1, last: 1) { nodes { id } } }',
      '{ files(after: "file-a", before: "file-b") { nodes { id } } }',
      '{ vectorStores(after: "vs_a", before: "vs_b") { nodes { id } } }',
    )
    .map((query) => graphql('page sizes out of range', query)),
  // Over the upstream-cost limit (150): 1 + 2 calls per store.
  fc
    .integer({ min: 75, max: 100 })
    .map((stores) =>
      graphql(
        'page sizes out of range',
        `{ vectorStores(first: ${stores}) { nodes { files(first: 100) { nodes { file { filename } } } } } }`,
      ),
    ),
);

function nested(levels: number): string {
  let open = 'vectorStores(first: 1) { nodes { ';
  let close = '} }';
  for (let level = 0; level < levels; level++) {
    open += 'files(first: 1) { nodes { vectorStore { ';
    close += ' } } }';
  }
  return `{ ${open}id ${close} }`;
}

const tooBig: fc.Arbitrary<Case> = fc.oneof(
  fc
    .integer({ min: 3, max: 30 })
    .map((levels) => graphql('operations too deep, wide or long', nested(levels))),
  fc
    .integer({ min: 16, max: 60 })
    .map((aliases) =>
      graphql(
        'operations too deep, wide or long',
        `{ ${Array.from({ length: aliases }, (_, index) => `a${index}: credentials { name }`).join(' ')} }`,
      ),
    ),
  fc
    .integer({ min: 51, max: 120 })
    .map((count) =>
      graphql(
        'operations too deep, wide or long',
        `{ credentials ${'@include(if: true) '.repeat(count)}{ name } }`,
      ),
    ),
  fc
    .integer({ min: 1001, max: 5000 })
    .map((tokens) =>
      graphql(
        'operations too deep, wide or long',
        `{ ${'credentials { name } '.repeat(Math.ceil(tokens / 4))}}`,
      ),
    ),
);

const MAX_BODY = 2 * 1024 * 1024;
const oversized: fc.Arbitrary<Case> = fc
  .tuple(fc.integer({ min: 1, max: 1024 * 1024 }), fc.boolean())
  .map(([extra, chunked]) => {
    const text = JSON.stringify({
      query: '{ credentials { name } }',
      variables: { x: 'x'.repeat(MAX_BODY + extra) },
    });
    const bytes = new TextEncoder().encode(text);
    return {
      category: 'bodies over 2 MB',
      method: 'POST' as const,
      headers: JSON_TYPE,
      // Chunked has no Content-Length to refuse early: the limit must hold while reading.
      body: chunked
        ? () =>
            new ReadableStream<Uint8Array>({
              start(controller) {
                for (let at = 0; at < bytes.length; at += 256 * 1024)
                  controller.enqueue(bytes.slice(at, at + 256 * 1024));
                controller.close();
              },
            })
        : text,
      statuses: [413],
    };
  });

const wrongContentType: fc.Arbitrary<Case> = fc.oneof(
  fc
    .oneof(
      fc.constantFrom(
        'application/xml',
        'text/html',
        'image/png',
        'application/octet-stream',
        'application/javascript',
        'text/csv',
        'application/jsonx',
        'application/x-ndjson',
        'json',
      ),
      fc.stringMatching(/^[a-z]{1,8}\/[a-z+-]{1,12}$/),
    )
    .filter(
      (type) =>
        !/^(application\/(json|graphql\+json|graphql|x-www-form-urlencoded)|multipart\/form-data|text\/plain)$/.test(
          type,
        ),
    )
    .map(
      (type): Case => ({
        category: 'content types no parser takes',
        method: 'POST' as const,
        headers: { 'content-type': type, ...CSRF },
        body: '{"query":"{ credentials { name } }"}',
        statuses: [415],
      }),
    ),
  // Types a browser may send cross-site, without a preflight header: refused before reading.
  fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x').map(
    (type): Case => ({
      category: 'content types no parser takes',
      method: 'POST' as const,
      headers: { 'content-type': type },
      body: 'query=%7B%20credentials%20%7B%20name%20%7D%20%7D',
      statuses: [403],
    }),
  ),
  fc.constant<Case>({
    category: 'content types no parser takes',
    method: 'POST' as const,
    headers: {},
    body: new TextEncoder().encode('{"query":"{ credentials { name } }"}'),
    statuses: [403],
  }),
  // Form-encoded with a preflight header, but its `variables` are not JSON.
  fc
    .string({ minLength: 1, maxLength: 20 })
    .filter((text) => !isJson(text))
    .map(
      (variables): Case => ({
        category: 'content types no parser takes',
        method: 'POST' as const,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...CSRF },
        body: new URLSearchParams({ query: '{ credentials { name } }', variables }).toString(),
        statuses: [400],
      }),
    ),
);

const badMethod: fc.Arbitrary<Case> = fc.oneof(
  fc.constantFrom<Method>('PUT', 'PATCH', 'DELETE').map(
    (method): Case => ({
      category: 'other methods and bad GETs',
      method,
      headers: JSON_TYPE,
      body: '{"query":"{ credentials { name } }"}',
      statuses: [405],
    }),
  ),
  fc.constant<Case>({
    category: 'other methods and bad GETs',
    method: 'GET' as const,
    search: new URLSearchParams({
      query: 'mutation { deleteVectorStore(input: { id: "vs_abc" }) { __typename } }',
    }).toString(),
    headers: CSRF,
    statuses: [405],
  }),
  fc
    .string({ minLength: 1, maxLength: 30 })
    .filter((text) => !isJson(text))
    .chain((text) =>
      fc.constantFrom('variables', 'extensions').map(
        (param): Case => ({
          category: 'other methods and bad GETs',
          method: 'GET' as const,
          search: new URLSearchParams({ query: '{ credentials { name } }', [param]: text }).toString(),
          headers: CSRF,
          statuses: [400],
        }),
      ),
    ),
  fc.constant<Case>({
    category: 'other methods and bad GETs',
    method: 'GET' as const,
    search: new URLSearchParams({ query: '{ credentials { name } }' }).toString(),
    headers: {},
    statuses: [403],
  }),
);

const UPLOAD =
  'mutation ($input: UploadFilesInput!) { uploadFiles(input: $input) { __typename ... on MutationError { message } } }';
// An id that cannot be valid, so even a well-formed form never reaches OpenAI.
const UPLOAD_OPERATIONS = JSON.stringify({
  query: UPLOAD,
  variables: { input: { vectorStoreId: 'not-an-id', files: [null, null] } },
});
const field = (name: string, value: string) =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const filePart = (name: string, content: string) =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}.txt"\r\nContent-Type: text/plain\r\n\r\n${content}\r\n`;
const END = `--${BOUNDARY}--\r\n`;

const MAP_SEGMENTS = [
  'variables',
  'input',
  'files',
  '0',
  '1',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'call',
  'apply',
  'map',
  'length',
  '__defineGetter__',
  'query',
  '',
  'x',
];
const mapPath = fc.oneof(
  fc.constantFrom(
    'variables.hasOwnProperty.call',
    'variables.toString.call',
    'variables.input.files.map.call',
    'variables.__proto__.polluted',
    'variables.constructor.prototype.polluted',
    'variables.input.__proto__',
    'query.constructor.prototype.polluted',
  ),
  fc
    .tuple(
      fc.constantFrom('', 'variables.', 'variables.input.', 'variables.input.files.'),
      fc.array(fc.constantFrom(...MAP_SEGMENTS), { minLength: 1, maxLength: 4 }),
    )
    .map(([prefix, parts]) => prefix + parts.join('.')),
);

const badMultipart: fc.Arbitrary<Case> = fc
  .oneof(
    fc.constant(field('map', '{"0":["variables.input.files.0"]}') + filePart('0', 'a') + END),
    anyText.map((operations) => field('operations', operations) + field('map', '{}') + END),
    nonObject.map((operations) => field('operations', JSON.stringify(operations)) + field('map', '{}') + END),
    anyText.map(
      (map) => field('operations', UPLOAD_OPERATIONS) + field('map', map) + filePart('0', 'a') + END,
    ),
    fc
      .oneof(
        fc.array(fc.string(), { maxLength: 2 }),
        fc.integer(),
        fc.record({ 0: fc.oneof(fc.string(), fc.array(fc.integer(), { minLength: 1 })) }),
      )
      .map(
        (map) =>
          field('operations', UPLOAD_OPERATIONS) +
          field('map', JSON.stringify(map)) +
          filePart('0', 'a') +
          END,
      ),
    {
      weight: 6,
      arbitrary: fc
        .array(mapPath, { minLength: 1, maxLength: 3 })
        .map(
          (paths) =>
            field('operations', UPLOAD_OPERATIONS) +
            field('map', JSON.stringify({ 0: paths })) +
            filePart('0', 'file bytes') +
            END,
        ),
    },
    fc.constant(
      field('operations', UPLOAD_OPERATIONS) +
        filePart('0', 'a') +
        field('map', '{"0":["variables.input.files.0"]}') +
        END,
    ),
    fc.constant(
      field('operations', UPLOAD_OPERATIONS) +
        field('map', '{"0":["variables.input.files.0"],"1":["variables.input.files.1"]}') +
        END,
    ),
    fc
      .integer({ min: 21, max: 40 })
      .map(
        (files) =>
          field('operations', UPLOAD_OPERATIONS) +
          field(
            'map',
            JSON.stringify(
              Object.fromEntries(Array.from({ length: files }, (_, i) => [String(i), [`variables.x${i}`]])),
            ),
          ) +
          END,
      ),
    fc.constantFrom('', END, 'garbage', `--${BOUNDARY}\r\n\r\n`, `--other\r\n${END}`),
    fc.string({ unit: 'binary', maxLength: 300 }),
    // Cut short, but the request itself ends normally.
    fc
      .integer({ min: 1, max: 200 })
      .map((cut) =>
        (
          field('operations', UPLOAD_OPERATIONS) +
          field('map', '{"0":["variables.input.files.0"]}') +
          filePart('0', 'abc') +
          END
        ).slice(0, -cut),
      ),
  )
  .chain((body) =>
    fc
      .constantFrom(MULTIPART, { 'content-type': 'multipart/form-data', ...CSRF }, MULTIPART)
      .map((headers) => ({
        category: 'broken multipart forms',
        method: 'POST' as const,
        headers,
        body,
        asData: 'uploadFiles',
      })),
  );

const tooMany = (count: number, prefix: string) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);
const badMetadata = fc.oneof(
  fc
    .integer({ min: 17, max: 40 })
    .map((keys) => Object.fromEntries(tooMany(keys, 'k').map((key) => [key, 'v']))),
  fc.string({ minLength: 65, maxLength: 100 }).map((key) => ({ [key]: 'v' })),
  fc.integer({ min: 513, max: 2000 }).map((length) => ({ key: 'v'.repeat(length) })),
  fc
    .oneof(
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.dictionary(fc.string(), fc.string(), { minKeys: 1, maxKeys: 2 }),
    )
    .map((value) => ({ key: value })),
  fc.constant(JSON.parse('{"__proto__": {"polluted": "yes"}}')),
);
const badAttributes = fc.oneof(
  fc
    .integer({ min: 17, max: 40 })
    .map((keys) => Object.fromEntries(tooMany(keys, 'a').map((key) => [key, 1]))),
  fc
    .oneof(
      fc.constant(null),
      fc.dictionary(fc.string(), fc.integer(), { minKeys: 1, maxKeys: 2 }),
      fc.array(fc.string(), { maxLength: 2 }),
    )
    .map((value) => ({ key: value })),
  fc.integer({ min: 513, max: 1000 }).map((length) => ({ key: 'a'.repeat(length) })),
);

const badMutationInput: fc.Arbitrary<Case> = fc.oneof(
  badMetadata.map((metadata) =>
    graphql(
      'mutation inputs OpenAI would refuse',
      'mutation ($m: JSONObject) { createVectorStore(input: { name: "x", metadata: $m }) { __typename ... on MutationError { message } } }',
      { m: metadata },
      { asData: 'createVectorStore' },
    ),
  ),
  fc
    .oneof(
      fc.record({ days: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 366 })) }),
      fc.record({
        days: fc.integer({ min: 1, max: 365 }),
        anchor: fc.string().filter((anchor) => anchor !== 'last_active_at'),
      }),
    )
    .map((expiresAfter) =>
      graphql(
        'mutation inputs OpenAI would refuse',
        'mutation ($e: ExpirationPolicyInput) { createVectorStore(input: { expiresAfter: $e }) { __typename ... on MutationError { message } } }',
        { e: expiresAfter },
        { asData: 'createVectorStore' },
      ),
    ),
  fc
    .integer({ min: 501, max: 700 })
    .map((count) =>
      graphql(
        'mutation inputs OpenAI would refuse',
        'mutation ($ids: [ID!]) { createVectorStore(input: { fileIds: $ids }) { __typename ... on MutationError { message } } }',
        { ids: tooMany(count, 'file-abc') },
        { asData: 'createVectorStore' },
      ),
    ),
  fc
    .oneof(
      fc.constant({ fileIds: [] as string[] }),
      badAttributes.map((attributes) => ({ fileIds: ['file-abc'], attributes })),
      fc
        .oneof(fc.integer({ max: 0 }), fc.integer({ min: 31 }))
        .map((waitSeconds) => ({ fileIds: ['file-abc'], waitSeconds })),
    )
    .map((input) =>
      graphql(
        'mutation inputs OpenAI would refuse',
        'mutation ($input: AddFilesInput!) { addFiles(input: $input) { __typename ... on MutationError { message } } }',
        { input: { vectorStoreId: 'vs_abc', ...input } },
        { asData: 'addFiles' },
      ),
    ),
  fc
    .oneof(fc.constant(0), fc.integer({ min: 101, max: 150 }))
    .map((count) =>
      graphql(
        'mutation inputs OpenAI would refuse',
        'mutation ($ids: [ID!]!) { removeFiles(input: { vectorStoreId: "vs_abc", fileIds: $ids }) { __typename ... on MutationError { message } } }',
        { ids: tooMany(count, 'file-abc') },
        { asData: 'removeFiles' },
      ),
    ),
  badAttributes.map((attributes) =>
    graphql(
      'mutation inputs OpenAI would refuse',
      'mutation ($a: JSONObject!) { updateVectorStoreFile(input: { vectorStoreId: "vs_abc", fileId: "file-abc", attributes: $a }) { __typename ... on MutationError { message } } }',
      { a: attributes },
      { asData: 'updateVectorStoreFile' },
    ),
  ),
);

const malformedRequest: fc.Arbitrary<Case> = fc.oneof(
  { arbitrary: badJson, weight: 3 },
  { arbitrary: notAnObject, weight: 2 },
  { arbitrary: badParams, weight: 3 },
  { arbitrary: badSyntax, weight: 3 },
  { arbitrary: unknownOperation, weight: 2 },
  { arbitrary: wrongVariables, weight: 4 },
  { arbitrary: invalidIds, weight: 4 },
  { arbitrary: pageBounds, weight: 3 },
  { arbitrary: tooBig, weight: 2 },
  { arbitrary: oversized, weight: 1 },
  { arbitrary: wrongContentType, weight: 3 },
  { arbitrary: badMethod, weight: 2 },
  { arbitrary: badMultipart, weight: 5 },
  { arbitrary: badMutationInput, weight: 4 },
);

// ---------------------------------------------------------------------------------------------

/** What a response to a malformed request must not be; null when it is fine. */
function verdict(request: Case, response: RawResponse): string | null {
  if (response.status >= 500) return `HTTP ${response.status}`;
  if (STACK_TRACE.test(response.text)) return 'a stack trace in the answer';
  if (request.statuses && !request.statuses.includes(response.status)) {
    return `HTTP ${response.status}, expected ${request.statuses.join(' or ')}`;
  }
  if (response.status !== 200 && (response.status < 400 || response.status >= 500))
    return `HTTP ${response.status}`;
  const problem = malformation(response);
  if (problem) return problem;
  const body = response.json as GraphQLBody;
  const messages = (body.errors ?? []).map((error) => String(error.message));
  if (messages.some((message) => message === 'Unexpected error.'))
    return '"Unexpected error." for a client mistake';
  if (body.errors?.length) return null;
  // No errors: only a mutation answering its expected failure as data (or a harmless success).
  const result = request.asData
    ? (body.data?.[request.asData] as { __typename?: string; message?: string } | null)
    : null;
  if (result?.__typename === 'InvalidInputError' || result?.__typename === 'NotFoundError') {
    return result.message ? null : `${result.__typename} without a message`;
  }
  return request.maySucceed ? null : `succeeded: ${response.text.slice(0, 200)}`;
}

/** Own properties of the built-ins a map path or a `__proto__` key could reach. */
function builtInsFingerprint(): string {
  const shared = [Object.prototype, Array.prototype, Function.prototype, String.prototype, Number.prototype];
  const parts: string[] = [];
  for (const prototype of shared) {
    for (const name of Object.getOwnPropertyNames(prototype)) {
      parts.push(name);
      const { value } = Object.getOwnPropertyDescriptor(prototype, name) ?? {};
      if (typeof value === 'function')
        parts.push(`${name}:${Object.getOwnPropertyNames(value).sort().join(',')}`);
    }
  }
  return parts.join('|');
}

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway.close());

describe(`${RUNS} malformed requests`, () => {
  it('all get a 4xx or a GraphQL error with a message, no 5xx, no crash, no upstream call, no polluted prototype', async () => {
    const watch = watchProcess();
    const builtIns = builtInsFingerprint();
    const byCategory = new Map<string, number>();
    const byStatus = new Map<number, number>();
    let upstreamCalls = 0;
    let runs = 0;
    const started = performance.now();
    try {
      await fc.assert(
        fc.asyncProperty(malformedRequest, async (request) => {
          runs++;
          byCategory.set(request.category, (byCategory.get(request.category) ?? 0) + 1);
          const before = gateway.upstreamCalls();
          const body = typeof request.body === 'function' ? request.body() : request.body;
          const response = await send(`${gateway.url}${request.search ? `?${request.search}` : ''}`, {
            method: request.method,
            headers: request.headers,
            body,
            ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
          } as RequestInit);
          const calls = gateway.upstreamCalls() - before;
          upstreamCalls += calls;
          byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
          const problem = verdict(request, response) ?? (calls > 0 ? `${calls} upstream calls` : null);
          if (problem) {
            const shown = typeof body === 'string' ? body.slice(0, 300) : String(body);
            throw new Error(
              `${request.category}: ${problem}\n  request: ${request.method} ${request.search ?? ''} ${JSON.stringify(request.headers)} ${shown}\n  response: ${response.status} ${response.text.slice(0, 300)}`,
            );
          }
        }),
        // The run is fixed by the seed; a failure is reported as it is, without shrinking.
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    } finally {
      watch.stop();
    }
    const errorLogs = gateway.logLines().filter((line) => /"level":(50|60)/.test(line));

    console.log(
      `malformed requests: ${runs} sent in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `by status ${[...byStatus]
          .sort(([a], [b]) => a - b)
          .map(([status, count]) => `${status}: ${count}`)
          .join(', ')}; ` +
        `0 5xx, ${upstreamCalls} upstream calls, ${watch.problems.length} unhandled rejections, ` +
        `${errorLogs.length} error logs; by kind: ${[...byCategory].map(([category, count]) => `${category} ${count}`).join(', ')}`,
    );
    expect(runs).toBe(RUNS);
    expect(upstreamCalls).toBe(0);
    expect(watch.problems).toEqual([]);
    expect(errorLogs).toEqual([]);
    expect(builtInsFingerprint()).toBe(builtIns);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // And the gateway still serves.
    const after = await gateway.graphql('{ credentials { name } }');
    expect(after).toMatchObject({ data: { credentials: [{ name: 'default' }] } });
  }, 60_000);
});

describe('what the generated requests found, one request each', () => {
  function multipart(body: string) {
    return send(gateway.url, { method: 'POST', headers: MULTIPART, body });
  }

  it('refuses a multipart map path through inherited properties, which replaced hasOwnProperty.call process-wide', async () => {
    for (const path of [
      'variables.hasOwnProperty.call',
      'variables.input.files.map.call',
      'query.toString.polluted',
    ]) {
      const response = await multipart(
        field('operations', UPLOAD_OPERATIONS) +
          field('map', JSON.stringify({ 0: [path] })) +
          filePart('0', 'x') +
          END,
      );
      expect(response.status).toBe(400);
      expect((response.json as GraphQLBody).errors?.[0]?.message).toContain(
        `path '${path}' does not name a value`,
      );
    }
    expect(Object.hasOwn(Object.prototype.hasOwnProperty, 'call')).toBe(false);
    expect(Object.hasOwn(Array.prototype.map, 'call')).toBe(false);
    expect(Object.hasOwn(String.prototype.toString, 'polluted')).toBe(false);
    expect(await gateway.graphql('{ credentials { name } }')).toMatchObject({
      data: { credentials: [{ name: 'default' }] },
    });
  });

  it('answers a multipart part without headers with a 400, where a second parser error crashed the process', async () => {
    const watch = watchProcess();
    try {
      const response = await multipart(`--${BOUNDARY}\r\n\r\n`);
      expect(response.status).toBe(400);
      expect((response.json as GraphQLBody).errors?.[0]?.message).toBe('Malformed part header');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(watch.problems).toEqual([]);
    } finally {
      watch.stop();
    }
  });

  it('answers the next request on a connection whose chunked body was cut off at the size limit', async () => {
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        query: '{ credentials { name } }',
        variables: { x: 'x'.repeat(MAX_BODY + 512 * 1024) },
      }),
    );
    // One connection at most, kept alive: the second request goes where the first one went.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (body: Uint8Array, chunked: boolean) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const url = new URL(gateway.url);
        const req = httpRequest({
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            ...(chunked ? {} : { 'content-length': body.length }),
          },
        });
        req.on('error', reject);
        req.on('response', (response) => {
          let text = '';
          response.on('data', (chunk) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        });
        for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.subarray(at, at + 64 * 1024));
        req.end();
      });
    try {
      const cut = await post(bytes, true);
      expect(cut.status).toBe(413);
      const next = await post(new TextEncoder().encode('{"query":"{ credentials { name } }"}'), false);
      expect(next).toMatchObject({ status: 200 });
    } finally {
      agent.destroy();
    }
  });

  it('answers variables that are not JSON in a GET with a 400, where they were a 500 "Unexpected error."', async () => {
    const response = await send(
      `${gateway.url}?query=${encodeURIComponent('{ credentials { name } }')}&variables=%7Bx`,
      {
        headers: CSRF,
      },
    );
    expect(response.status).toBe(400);
    expect((response.json as GraphQLBody).errors?.[0]?.message).toBe(
      'The `variables` or `extensions` parameter is not valid JSON.',
    );
  });
});
