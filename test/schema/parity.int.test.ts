/**
 * Parity with OpenAI's API: every operation of the vendored OpenAPI description under SCOPE, and
 * every request field of it (query parameters, top-level body properties, and the leaves of
 * nested body objects such as `ranking_options.ranker` or `files[].chunking_strategy.type`), is
 * either reached from the GraphQL schema or excluded, with a reason, in EXCLUDED (at most 5).
 *
 * PARITY says, per operation, which schema coordinate reaches it (`Type.field`,
 * `Type.field(arg)`, `Input.field`) and which exercise of EXERCISES shows it; per field, which
 * coordinates reach it and what the emulator must receive (in `body`, or in `query` as a string).
 * Each exercise is one GraphQL operation sent over HTTP against seeded data (`@name` strings
 * stand for the seeded ids of `seed`), as a GraphQL multipart request when it has `files`, and
 * with every `contentUrl` of its answer then fetched when it has `follow`; it must use every
 * coordinate its rows name, and the emulator must have received each row's value (or, for a
 * value only known once sent, such as a part id, one its `sent` function accepts) in at least
 * one request to that operation.
 *
 * To extend it to more of the spec: add the prefix to SCOPE, run this test to list what is
 * unmapped, then add rows and exercises.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import {
  type GraphQLInputType,
  getNullableType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isObjectType,
  parse,
  TypeInfo,
  valueFromAST,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../src/emulator/index.ts';
import { schema } from '../../src/schema/index.ts';
import { type GraphQLResponse, startGateway, type TestGateway, uploadTextFiles } from '../support/gateway.ts';
import { PREFLIGHT } from '../support/multipart.ts';

/** The paths of the spec this test holds the gateway to. */
const SCOPE = ['/vector_stores', '/files', '/uploads'];

/**
 * Requests that reach nothing in the schema, each with why (at most 5), keyed by operation
 * (`POST /vector_stores`) or by operation and field (`POST /vector_stores expires_after.days`).
 */
const EXCLUDED: Record<string, string> = {};

const OUTCOME = '{ __typename ... on MutationError { message } ... on InvalidInputError { field } }';

/** A file of 2500 bytes: past the gateway's parted-upload threshold of the exercises (2000). */
const PARTED = 'parted '.repeat(358).slice(0, 2500);
const UPLOAD_LIMITS = { partedUploadBytes: 2000, partBytes: 1000 };

const EXERCISES = {
  listStores: {
    document: `query ($older: String!, $store: String!) {
      forward: vectorStores(first: 2, order: ASC, after: $older) { nodes { id } }
      backward: vectorStores(last: 1, before: $store) { nodes { id } }
    }`,
    variables: { older: '@older', store: '@store' },
  },
  readStore: {
    document: `query ($store: ID!, $batch: ID!, $first: String!, $third: String!) {
      vectorStore(id: $store) {
        forward: files(first: 3, order: ASC, filter: COMPLETED, after: $first) { totalCount }
        backward: files(last: 1, before: $third) { totalCount }
        fileBatch(id: $batch) {
          forward: files(first: 2, order: ASC, filter: COMPLETED, after: $first) { totalCount }
          backward: files(last: 1, before: $third) { totalCount }
        }
      }
    }`,
    variables: { store: '@store', batch: '@batch', first: '@f1', third: '@f3' },
  },
  readFile: {
    document: `query ($store: ID!, $file: ID!) {
      vectorStore(id: $store) { file(id: $file) { content(first: 1) { nodes { text } } } }
    }`,
    variables: { store: '@store', file: '@f1' },
  },
  search: {
    document: `query ($store: ID!) {
      vectorStore(id: $store) {
        ranked: searchPage(
          query: "refunds"
          queries: ["refund policy"]
          maxResults: 7
          rewriteQuery: true
          rankingOptions: { ranker: NONE, scoreThreshold: 0.25 }
          where: { eq: { key: "lang", value: { string: "en" } } }
        ) { searchQuery }
        combined: search(
          query: "refunds"
          where: { and: [
            { eq: { key: "lang", value: { string: "en" } } }
            { in: { key: "year", values: [{ number: 2025 }, { number: 2026 }] } }
          ] }
        ) { score }
        raw: search(query: "refunds", filters: { type: "ne", key: "draft", value: true }) { score }
      }
    }`,
    variables: { store: '@store' },
  },
  createStore: {
    document: `mutation ($input: CreateVectorStoreInput!) { createVectorStore(input: $input) ${OUTCOME} }`,
    variables: {
      input: {
        name: 'Parity',
        description: 'Every request field of the spec',
        fileIds: ['@f1'],
        metadata: { team: 'support' },
        expiresAfter: { anchor: 'last_active_at', days: 7 },
        chunkingStrategy: { static: { maxChunkSizeTokens: 400, chunkOverlapTokens: 100 } },
      },
    },
  },
  updateStore: {
    document: `mutation ($input: UpdateVectorStoreInput!) { updateVectorStore(input: $input) ${OUTCOME} }`,
    variables: {
      input: {
        id: '@scratch',
        name: 'Renamed',
        metadata: { team: 'search' },
        expiresAfter: { anchor: 'last_active_at', days: 30 },
      },
    },
  },
  deleteStore: {
    document: `mutation ($input: DeleteVectorStoreInput!) { deleteVectorStore(input: $input) ${OUTCOME} }`,
    variables: { input: { id: '@doomed' } },
  },
  addFiles: {
    document: `mutation ($shared: AddFilesInput!, $perFile: AddFilesInput!) {
      shared: addFiles(input: $shared) ${OUTCOME}
      perFile: addFiles(input: $perFile) ${OUTCOME}
    }`,
    variables: {
      shared: {
        vectorStoreId: '@scratch',
        fileIds: ['@f6'],
        attributes: { lang: 'de' },
        chunkingStrategy: { static: { maxChunkSizeTokens: 300, chunkOverlapTokens: 50 } },
      },
      perFile: {
        vectorStoreId: '@older',
        fileIds: ['@f5', '@f6'],
        attributes: { lang: 'en' },
        chunkingStrategy: { auto: true },
        perFile: [
          {
            fileId: '@f6',
            attributes: { lang: 'fr' },
            chunkingStrategy: { static: { maxChunkSizeTokens: 200, chunkOverlapTokens: 0 } },
          },
        ],
      },
    },
  },
  attachFile: {
    document: `mutation ($input: AttachFileInput!) { attachFile(input: $input) ${OUTCOME} }`,
    variables: {
      input: {
        vectorStoreId: '@scratch',
        fileId: '@f5',
        attributes: { year: 2026 },
        chunkingStrategy: { static: { maxChunkSizeTokens: 500, chunkOverlapTokens: 250 } },
      },
    },
  },
  updateFile: {
    document: `mutation ($input: UpdateVectorStoreFileInput!) { updateVectorStoreFile(input: $input) ${OUTCOME} }`,
    variables: {
      input: { vectorStoreId: '@store', fileId: '@f2', attributes: { lang: 'en', reviewed: true } },
    },
  },
  cancelBatch: {
    document: `mutation ($input: CancelFileBatchInput!) { cancelFileBatch(input: $input) ${OUTCOME} }`,
    variables: { input: { vectorStoreId: '@scratch', batchId: '@scratchBatch' } },
  },
  removeFiles: {
    document: `mutation ($input: RemoveFilesInput!) { removeFiles(input: $input) ${OUTCOME} }`,
    variables: { input: { vectorStoreId: '@scratch', fileIds: ['@f4'] } },
  },
  listFiles: {
    document: `query ($after: String!) {
      files(first: 2, order: ASC, purpose: "assistants", after: $after) { nodes { id } }
    }`,
    variables: { after: '@f1' },
  },
  readFileObject: {
    document: 'query ($file: ID!) { file(id: $file) { filename contentUrl } }',
    variables: { file: '@f2' },
    follow: true,
  },
  deleteFiles: {
    document: `mutation ($input: DeleteFilesInput!) { deleteFiles(input: $input) ${OUTCOME} }`,
    variables: { input: { fileIds: ['@f7'] } },
  },
  // One file streamed to POST /files, one sent in parts (the gateway's threshold is 2000 bytes
  // here), and one whose bytes fall short of its declared size, which cancels its upload.
  createFiles: {
    document: `mutation ($input: CreateFilesInput!) { createFiles(input: $input) ${OUTCOME} }`,
    variables: { input: { purpose: 'USER_DATA', expiresAfterSeconds: 7200, sizes: [5, 2500, 3000] } },
    files: [
      { name: 'small.txt', content: 'small' },
      { name: 'parted.txt', content: PARTED },
      { name: 'short.txt', content: PARTED },
    ],
  },
} satisfies Record<string, Exercise>;

interface Exercise {
  document: string;
  variables?: Record<string, unknown>;
  /** Files sent as `variables.input.files`, in a GraphQL multipart request. */
  files?: Array<{ name: string; content: string }>;
  /** Fetch every `contentUrl` of the answer, with the request's own headers. */
  follow?: boolean;
}

type ExerciseName = keyof typeof EXERCISES;

interface FieldRow {
  /** The schema coordinates that reach the field; its exercise uses each. */
  via: string | string[];
  /**
   * What the emulator must have received; for `a[].b`, the list of each item's `b`. A function
   * instead accepts or refuses what was received, for values not known before they are sent.
   */
  sent: unknown;
  /** Its exercise, when not the operation's. */
  run?: ExerciseName;
}

interface OperationRow {
  via: string | string[];
  run: ExerciseName;
  fields?: Record<string, FieldRow>;
}

const STATIC = 'ChunkingStrategyInput.static';
const SIZE = 'StaticChunkingInput.maxChunkSizeTokens';
const OVERLAP = 'StaticChunkingInput.chunkOverlapTokens';

const PARITY: Record<string, OperationRow> = {
  'GET /vector_stores': {
    via: 'Query.vectorStores',
    run: 'listStores',
    fields: {
      limit: { via: 'Query.vectorStores(first)', sent: '2' },
      order: { via: 'Query.vectorStores(order)', sent: 'asc' },
      after: { via: 'Query.vectorStores(after)', sent: '@older' },
      before: { via: 'Query.vectorStores(before)', sent: '@store' },
    },
  },
  'POST /vector_stores': {
    via: 'Mutation.createVectorStore',
    run: 'createStore',
    fields: {
      name: { via: 'CreateVectorStoreInput.name', sent: 'Parity' },
      description: { via: 'CreateVectorStoreInput.description', sent: 'Every request field of the spec' },
      file_ids: { via: 'CreateVectorStoreInput.fileIds', sent: ['@f1'] },
      metadata: { via: 'CreateVectorStoreInput.metadata', sent: { team: 'support' } },
      expires_after: {
        via: 'CreateVectorStoreInput.expiresAfter',
        sent: { anchor: 'last_active_at', days: 7 },
      },
      'expires_after.anchor': { via: 'ExpirationPolicyInput.anchor', sent: 'last_active_at' },
      'expires_after.days': { via: 'ExpirationPolicyInput.days', sent: 7 },
      chunking_strategy: {
        via: 'CreateVectorStoreInput.chunkingStrategy',
        sent: { type: 'static', static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 100 } },
      },
      'chunking_strategy.type': { via: STATIC, sent: 'static' },
      'chunking_strategy.static.max_chunk_size_tokens': { via: SIZE, sent: 400 },
      'chunking_strategy.static.chunk_overlap_tokens': { via: OVERLAP, sent: 100 },
    },
  },
  'GET /vector_stores/{vector_store_id}': { via: 'Query.vectorStore', run: 'readStore' },
  'POST /vector_stores/{vector_store_id}': {
    via: 'Mutation.updateVectorStore',
    run: 'updateStore',
    fields: {
      name: { via: 'UpdateVectorStoreInput.name', sent: 'Renamed' },
      metadata: { via: 'UpdateVectorStoreInput.metadata', sent: { team: 'search' } },
      expires_after: {
        via: 'UpdateVectorStoreInput.expiresAfter',
        sent: { anchor: 'last_active_at', days: 30 },
      },
      'expires_after.anchor': { via: 'ExpirationPolicyInput.anchor', sent: 'last_active_at' },
      'expires_after.days': { via: 'ExpirationPolicyInput.days', sent: 30 },
    },
  },
  'DELETE /vector_stores/{vector_store_id}': { via: 'Mutation.deleteVectorStore', run: 'deleteStore' },
  'POST /vector_stores/{vector_store_id}/search': {
    via: ['VectorStore.search', 'VectorStore.searchPage'],
    run: 'search',
    fields: {
      query: {
        via: ['VectorStore.searchPage(query)', 'VectorStore.searchPage(queries)'],
        sent: ['refunds', 'refund policy'],
      },
      max_num_results: { via: 'VectorStore.searchPage(maxResults)', sent: 7 },
      rewrite_query: { via: 'VectorStore.searchPage(rewriteQuery)', sent: true },
      ranking_options: {
        via: 'VectorStore.searchPage(rankingOptions)',
        sent: { ranker: 'none', score_threshold: 0.25 },
      },
      'ranking_options.ranker': { via: 'RankingOptionsInput.ranker', sent: 'none' },
      'ranking_options.score_threshold': { via: 'RankingOptionsInput.scoreThreshold', sent: 0.25 },
      filters: { via: 'VectorStore.search(filters)', sent: { type: 'ne', key: 'draft', value: true } },
      'filters.type': { via: ['VectorStore.searchPage(where)', 'SearchFilterInput.eq'], sent: 'eq' },
      'filters.key': { via: 'AttributeComparisonInput.key', sent: 'lang' },
      'filters.value': { via: ['AttributeComparisonInput.value', 'AttributeValueInput.string'], sent: 'en' },
      'filters.filters': {
        via: [
          'SearchFilterInput.and',
          'SearchFilterInput.in',
          'AttributeListComparisonInput.values',
          'AttributeValueInput.number',
        ],
        sent: [
          { type: 'eq', key: 'lang', value: 'en' },
          { type: 'in', key: 'year', value: [2025, 2026] },
        ],
      },
    },
  },
  'POST /vector_stores/{vector_store_id}/file_batches': {
    via: 'Mutation.addFiles',
    run: 'addFiles',
    fields: {
      file_ids: { via: 'AddFilesInput.fileIds', sent: ['@f6'] },
      attributes: { via: 'AddFilesInput.attributes', sent: { lang: 'de' } },
      chunking_strategy: {
        via: 'AddFilesInput.chunkingStrategy',
        sent: { type: 'static', static: { max_chunk_size_tokens: 300, chunk_overlap_tokens: 50 } },
      },
      'chunking_strategy.type': { via: STATIC, sent: 'static' },
      'chunking_strategy.static.max_chunk_size_tokens': { via: SIZE, sent: 300 },
      'chunking_strategy.static.chunk_overlap_tokens': { via: OVERLAP, sent: 50 },
      // Per-file settings: the shared ones are repeated for the files that have none of their own.
      files: {
        via: 'AddFilesInput.perFile',
        sent: [
          { file_id: '@f5', attributes: { lang: 'en' }, chunking_strategy: { type: 'auto' } },
          {
            file_id: '@f6',
            attributes: { lang: 'fr' },
            chunking_strategy: {
              type: 'static',
              static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 0 },
            },
          },
        ],
      },
      'files[].file_id': { via: ['AddFilesInput.fileIds', 'FileSettingsInput.fileId'], sent: ['@f5', '@f6'] },
      'files[].attributes': { via: 'FileSettingsInput.attributes', sent: [{ lang: 'en' }, { lang: 'fr' }] },
      'files[].chunking_strategy.type': {
        via: ['FileSettingsInput.chunkingStrategy', 'ChunkingStrategyInput.auto', STATIC],
        sent: ['auto', 'static'],
      },
      'files[].chunking_strategy.static.max_chunk_size_tokens': { via: SIZE, sent: [undefined, 200] },
      'files[].chunking_strategy.static.chunk_overlap_tokens': { via: OVERLAP, sent: [undefined, 0] },
    },
  },
  'GET /vector_stores/{vector_store_id}/file_batches/{batch_id}': {
    via: 'VectorStore.fileBatch',
    run: 'readStore',
  },
  'POST /vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel': {
    via: 'Mutation.cancelFileBatch',
    run: 'cancelBatch',
  },
  'GET /vector_stores/{vector_store_id}/file_batches/{batch_id}/files': {
    via: 'FileBatch.files',
    run: 'readStore',
    fields: {
      limit: { via: 'FileBatch.files(first)', sent: '2' },
      order: { via: 'FileBatch.files(order)', sent: 'asc' },
      after: { via: 'FileBatch.files(after)', sent: '@f1' },
      before: { via: 'FileBatch.files(before)', sent: '@f3' },
      filter: { via: 'FileBatch.files(filter)', sent: 'completed' },
    },
  },
  'GET /vector_stores/{vector_store_id}/files': {
    via: 'VectorStore.files',
    run: 'readStore',
    fields: {
      limit: { via: 'VectorStore.files(first)', sent: '3' },
      order: { via: 'VectorStore.files(order)', sent: 'asc' },
      after: { via: 'VectorStore.files(after)', sent: '@f1' },
      before: { via: 'VectorStore.files(before)', sent: '@f3' },
      filter: { via: 'VectorStore.files(filter)', sent: 'completed' },
    },
  },
  'POST /vector_stores/{vector_store_id}/files': {
    via: 'Mutation.attachFile',
    run: 'attachFile',
    fields: {
      file_id: { via: 'AttachFileInput.fileId', sent: '@f5' },
      attributes: { via: 'AttachFileInput.attributes', sent: { year: 2026 } },
      chunking_strategy: {
        via: 'AttachFileInput.chunkingStrategy',
        sent: { type: 'static', static: { max_chunk_size_tokens: 500, chunk_overlap_tokens: 250 } },
      },
      'chunking_strategy.type': { via: STATIC, sent: 'static' },
      'chunking_strategy.static.max_chunk_size_tokens': { via: SIZE, sent: 500 },
      'chunking_strategy.static.chunk_overlap_tokens': { via: OVERLAP, sent: 250 },
    },
  },
  'GET /vector_stores/{vector_store_id}/files/{file_id}': { via: 'VectorStore.file', run: 'readFile' },
  'POST /vector_stores/{vector_store_id}/files/{file_id}': {
    via: 'Mutation.updateVectorStoreFile',
    run: 'updateFile',
    fields: {
      attributes: { via: 'UpdateVectorStoreFileInput.attributes', sent: { lang: 'en', reviewed: true } },
    },
  },
  'DELETE /vector_stores/{vector_store_id}/files/{file_id}': {
    via: 'Mutation.removeFiles',
    run: 'removeFiles',
  },
  'GET /vector_stores/{vector_store_id}/files/{file_id}/content': {
    via: 'VectorStoreFile.content',
    run: 'readFile',
  },
  'GET /files': {
    via: 'Query.files',
    run: 'listFiles',
    fields: {
      purpose: { via: 'Query.files(purpose)', sent: 'assistants' },
      limit: { via: 'Query.files(first)', sent: '2' },
      order: { via: 'Query.files(order)', sent: 'asc' },
      after: { via: 'Query.files(after)', sent: '@f1' },
    },
  },
  'GET /files/{file_id}': { via: 'Query.file', run: 'readFileObject' },
  'DELETE /files/{file_id}': { via: 'Mutation.deleteFiles', run: 'deleteFiles' },
  // The content is a route of the gateway's own, next to /graphql, which the File links to.
  'GET /files/{file_id}/content': { via: 'File.contentUrl', run: 'readFileObject' },
  'POST /files': {
    via: 'Mutation.createFiles',
    run: 'createFiles',
    fields: {
      file: { via: 'CreateFilesInput.files', sent: 'small.txt' },
      purpose: { via: 'CreateFilesInput.purpose', sent: 'user_data' },
      // A form's fields are strings.
      expires_after: {
        via: 'CreateFilesInput.expiresAfterSeconds',
        sent: { anchor: 'created_at', seconds: '7200' },
      },
      'expires_after.anchor': { via: 'CreateFilesInput.expiresAfterSeconds', sent: 'created_at' },
      'expires_after.seconds': { via: 'CreateFilesInput.expiresAfterSeconds', sent: '7200' },
    },
  },
  'POST /uploads': {
    via: ['Mutation.createFiles', 'CreateFilesInput.sizes'],
    run: 'createFiles',
    fields: {
      filename: { via: 'CreateFilesInput.files', sent: 'parted.txt' },
      purpose: { via: 'CreateFilesInput.purpose', sent: 'user_data' },
      bytes: { via: 'CreateFilesInput.sizes', sent: 2500 },
      mime_type: { via: 'CreateFilesInput.files', sent: 'text/plain' },
      expires_after: {
        via: 'CreateFilesInput.expiresAfterSeconds',
        sent: { anchor: 'created_at', seconds: 7200 },
      },
      'expires_after.anchor': { via: 'CreateFilesInput.expiresAfterSeconds', sent: 'created_at' },
      'expires_after.seconds': { via: 'CreateFilesInput.expiresAfterSeconds', sent: 7200 },
    },
  },
  'POST /uploads/{upload_id}/parts': {
    via: 'CreateFilesInput.sizes',
    run: 'createFiles',
    // The log shows a part's bytes as their count: 1000 a part, 500 the last.
    fields: { data: { via: 'CreateFilesInput.files', sent: 500 } },
  },
  'POST /uploads/{upload_id}/complete': {
    via: 'CreateFilesInput.sizes',
    run: 'createFiles',
    fields: {
      part_ids: {
        via: 'CreateFilesInput.sizes',
        sent: (value: unknown) =>
          Array.isArray(value) && value.length === 3 && value.every((id) => /^part_/.test(String(id))),
      },
      md5: { via: 'CreateFilesInput.files', sent: createHash('md5').update(PARTED).digest('hex') },
    },
  },
  // A file whose bytes fall short of its declared size has its upload cancelled.
  'POST /uploads/{upload_id}/cancel': { via: 'CreateFilesInput.sizes', run: 'createFiles' },
};

/** The objects the exercises work on; `@name` in EXERCISES and PARITY stands for `ids[name]`. */
async function seed(gateway: TestGateway): Promise<Record<string, string>> {
  const { openai } = gateway;
  const [f1 = '', f2 = '', f3 = '', f4 = '', f5 = '', f6 = '', f7 = ''] = await uploadTextFiles(
    openai,
    7,
    'refunds',
  );
  const older = await openai.vectorStores.create({ name: 'older' });
  const store = await openai.vectorStores.create({ name: 'parity' });
  const batch = await openai.vectorStores.fileBatches.create(store.id, {
    file_ids: [f1, f2, f3],
    attributes: { lang: 'en', year: 2025 },
  });
  const scratch = await openai.vectorStores.create({ name: 'scratch' });
  const scratchBatch = await openai.vectorStores.fileBatches.create(scratch.id, { file_ids: [f4] });
  const doomed = await openai.vectorStores.create({ name: 'doomed' });
  return {
    f1,
    f2,
    f3,
    f4,
    f5,
    f6,
    f7,
    older: older.id,
    store: store.id,
    batch: batch.id,
    scratch: scratch.id,
    scratchBatch: scratchBatch.id,
    doomed: doomed.id,
  };
}

// --- The spec's side --------------------------------------------------------------------------

interface JsonSchema {
  $ref?: string;
  $recursiveRef?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  allOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
}

interface SpecOperation {
  parameters?: Array<{ name: string; in: string } | { $ref: string }>;
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}

interface SpecField {
  operation: string;
  field: string;
  in: 'query' | 'body';
}

const spec = JSON.parse(
  readFileSync(new URL('../../vendor/openai/openapi.vector-stores.json', import.meta.url), 'utf8'),
) as { paths: Record<string, Record<string, unknown>> };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function deref<T>(ref: string): T {
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], spec) as T;
}

/** The operations under SCOPE, and their request fields. */
function specRequests(): { operations: string[]; fields: SpecField[] } {
  const operations: string[] = [];
  const fields: SpecField[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    if (!SCOPE.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) continue;
    for (const method of METHODS) {
      const operation = item[method] as SpecOperation | undefined;
      if (!operation) continue;
      const key = `${method.toUpperCase()} ${path}`;
      operations.push(key);
      const parameters = [
        ...((item.parameters as SpecOperation['parameters']) ?? []),
        ...(operation.parameters ?? []),
      ];
      for (const parameter of parameters) {
        const { name, in: where } =
          '$ref' in parameter ? deref<{ name: string; in: string }>(parameter.$ref) : parameter;
        if (where === 'query') fields.push({ operation: key, field: name, in: 'query' });
      }
      const [body] = Object.values(operation.requestBody?.content ?? {});
      for (const field of body ? bodyFields([body.schema], '', new Set()) : []) {
        fields.push({ operation: key, field, in: 'body' });
      }
    }
  }
  return { operations, fields };
}

/**
 * The schemas a value of `schemas` may match, with $ref resolved and allOf/oneOf/anyOf flattened,
 * and the $refs met on the way. A $ref already met above (a recursive filter) is not followed.
 */
function expand(schemas: JsonSchema[], above: ReadonlySet<string>) {
  const found: JsonSchema[] = [];
  const refs = new Set<string>();
  const follow = (schema: JsonSchema) => {
    if (schema.$recursiveRef) return;
    if (schema.$ref) {
      if (above.has(schema.$ref) || refs.has(schema.$ref)) return;
      refs.add(schema.$ref);
      follow(deref<JsonSchema>(schema.$ref));
      return;
    }
    found.push(schema);
    for (const member of [...(schema.allOf ?? []), ...(schema.oneOf ?? []), ...(schema.anyOf ?? [])])
      follow(member);
  };
  for (const schema of schemas) follow(schema);
  return { found, seen: new Set([...above, ...refs]) };
}

/**
 * Property paths of a body: every top-level property, and below it every leaf of an object
 * property (`a.b`) or of the objects of a list (`a[].b`). Maps (metadata, attributes) are leaves.
 */
function bodyFields(schemas: JsonSchema[], prefix: string, above: ReadonlySet<string>): string[] {
  const { found, seen } = expand(schemas, above);
  const properties = new Map<string, JsonSchema[]>();
  for (const schema of found) {
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      properties.set(name, [...(properties.get(name) ?? []), property]);
    }
  }
  const paths: string[] = [];
  for (const [name, alternatives] of properties) {
    const path = `${prefix}${name}`;
    const items = expand(alternatives, seen).found.flatMap((schema) => (schema.items ? [schema.items] : []));
    const nested = [...bodyFields(alternatives, `${path}.`, seen), ...bodyFields(items, `${path}[].`, seen)];
    if (prefix === '' || nested.length === 0) paths.push(path);
    paths.push(...nested);
  }
  return paths;
}

// --- The schema's side ------------------------------------------------------------------------

const list = (via: string | string[]): string[] => (Array.isArray(via) ? via : [via]);

/** Why a coordinate does not exist in the schema, or null when it does. */
function missingCoordinate(coordinate: string): string | null {
  const match = /^(\w+)\.(\w+)(?:\((\w+)\))?$/.exec(coordinate);
  if (!match) return `${coordinate}: not a Type.field, Type.field(arg) or Input.field coordinate`;
  const [, typeName = '', fieldName = '', argName] = match;
  const type = schema.getType(typeName);
  if (isObjectType(type) || isInterfaceType(type)) {
    const field = type.getFields()[fieldName];
    if (!field) return `${coordinate}: ${typeName} has no field ${fieldName}`;
    if (argName && !field.args.some((arg) => arg.name === argName)) {
      return `${coordinate}: ${typeName}.${fieldName} has no argument ${argName}`;
    }
    return null;
  }
  if (isInputObjectType(type) && !argName) {
    return type.getFields()[fieldName] ? null : `${coordinate}: ${typeName} has no field ${fieldName}`;
  }
  return `${coordinate}: no object or input type ${typeName}`;
}

/** The coordinates an operation uses: its fields, its arguments, and the input fields it gives. */
function coordinatesUsed(document: string, variables: Record<string, unknown>): Set<string> {
  const used = new Set<string>();
  const give = (type: GraphQLInputType, value: unknown): void => {
    const nullable = getNullableType(type);
    if (isListType(nullable) && Array.isArray(value)) {
      for (const item of value) give(nullable.ofType, item);
    } else if (isInputObjectType(nullable) && typeof value === 'object' && value !== null) {
      for (const [name, field] of Object.entries(nullable.getFields())) {
        if (!(name in value)) continue;
        used.add(`${nullable.name}.${name}`);
        give(field.type, (value as Record<string, unknown>)[name]);
      }
    }
  };
  const typeInfo = new TypeInfo(schema);
  visit(
    parse(document),
    visitWithTypeInfo(typeInfo, {
      Field() {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (parent && field) used.add(`${parent.name}.${field.name}`);
      },
      Argument(node) {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        const argument = typeInfo.getArgument();
        if (!parent || !field || !argument) return;
        used.add(`${parent.name}.${field.name}(${argument.name})`);
        give(argument.type, valueFromAST(node.value, argument.type, variables));
      },
    }),
  );
  return used;
}

// --- Checks -----------------------------------------------------------------------------------

/** `@name` strings replaced by the seeded ids. */
function withIds<T>(value: T, ids: Record<string, string>): T {
  if (typeof value === 'string' && value.startsWith('@')) {
    const id = ids[value.slice(1)];
    if (id === undefined) throw new Error(`No seeded id for ${value}.`);
    return id as T;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => withIds(item, ids)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withIds(item, ids)])) as T;
  }
  return value;
}

/** The value at `a.b` or `a[].b` (the list of each item's `b`). */
function valueAt(value: unknown, path: string[]): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (head.endsWith('[]')) {
    const items = record[head.slice(0, -2)];
    return Array.isArray(items) ? items.map((item: unknown) => valueAt(item, rest)) : undefined;
  }
  return valueAt(record[head], rest);
}

function received(request: RecordedRequest, field: SpecField): unknown {
  return field.in === 'query' ? request.query?.[field.field] : valueAt(request.body, field.field.split('.'));
}

/** The error members of mutation results, and other `...Error` objects, anywhere in a response. */
function errorsIn(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(errorsIn);
  if (typeof value !== 'object' || value === null) return [];
  const typename = (value as { __typename?: unknown }).__typename;
  if (typeof typename === 'string' && typename.endsWith('Error')) return [value];
  return Object.values(value).flatMap(errorsIn);
}

/**
 * Sends an exercise as a client would: JSON, or a multipart request for its files, then a GET of
 * each `contentUrl` of the answer when it asks to follow them, the coordinates being used as the
 * answer was put to use.
 */
async function send(
  gateway: TestGateway,
  exercise: Exercise,
  variables: Record<string, unknown>,
): Promise<GraphQLResponse<unknown>> {
  let result: GraphQLResponse<unknown>;
  if (exercise.files) {
    const files = exercise.files;
    const form = new FormData();
    form.append(
      'operations',
      JSON.stringify({ query: exercise.document, variables: withFiles(variables, files) }),
    );
    form.append(
      'map',
      JSON.stringify(
        Object.fromEntries(files.map((_, index) => [index, [`variables.input.files.${index}`]])),
      ),
    );
    for (const [index, file] of files.entries()) {
      form.append(String(index), new Blob([file.content], { type: 'text/plain' }), file.name);
    }
    const response = await fetch(gateway.url, { method: 'POST', headers: PREFLIGHT, body: form });
    result = (await response.json()) as GraphQLResponse<unknown>;
  } else {
    result = await gateway.graphql(exercise.document, variables);
  }
  if (exercise.follow) {
    for (const url of contentUrls(result.data)) {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
      await response.arrayBuffer();
    }
  }
  return result;
}

/** The variables with `input.files` as a multipart request holds them: null, one per file. */
function withFiles(variables: Record<string, unknown>, files: Exercise['files']): Record<string, unknown> {
  if (!files) return variables;
  return { ...variables, input: { ...(variables.input as object), files: files.map(() => null) } };
}

function contentUrls(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(contentUrls);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) =>
    key === 'contentUrl' && typeof item === 'string' ? [item] : contentUrls(item),
  );
}

const { operations: specOperations, fields: specFields } = specRequests();
const excluded = (operation: string, field?: string) =>
  operation in EXCLUDED || (field !== undefined && `${operation} ${field}` in EXCLUDED);

describe('parity with the OpenAI vector-store API', () => {
  it('maps or excludes every operation and request field of the spec, and nothing else', () => {
    expect(specOperations.length).toBeGreaterThan(0);
    const unmapped = [
      ...specOperations.filter((operation) => !PARITY[operation] && !excluded(operation)),
      ...specFields
        .filter(({ operation, field }) => !PARITY[operation]?.fields?.[field] && !excluded(operation, field))
        .map(({ operation, field }) => `${operation} ${field}`),
    ];
    const known = new Set([
      ...specOperations,
      ...specFields.map(({ operation, field }) => `${operation} ${field}`),
    ]);
    const mapped = Object.entries(PARITY).flatMap(([operation, row]) => [
      operation,
      ...Object.keys(row.fields ?? {}).map((field) => `${operation} ${field}`),
    ]);
    const stale = [...mapped, ...Object.keys(EXCLUDED)].filter((key) => !known.has(key));
    const both = Object.keys(EXCLUDED).filter((key) => mapped.includes(key));
    expect({ unmapped, stale, mappedAndExcluded: both }).toEqual({
      unmapped: [],
      stale: [],
      mappedAndExcluded: [],
    });
  });

  it('maps only to coordinates that exist in the schema', () => {
    const coordinates = Object.values(PARITY).flatMap((row) => [
      ...list(row.via),
      ...Object.values(row.fields ?? {}).flatMap((field) => list(field.via)),
    ]);
    expect(coordinates.map(missingCoordinate).filter((problem) => problem !== null)).toEqual([]);
  });

  it('excludes at most 5 requests, each with its reason', () => {
    const entries = Object.entries(EXCLUDED);
    expect(entries.length).toBeLessThanOrEqual(5);
    expect(entries.filter(([, reason]) => reason.trim().length < 10).map(([key]) => key)).toEqual([]);
  });

  it('runs every exercise for some row', () => {
    const runs = new Set(
      Object.values(PARITY).flatMap((row) => [
        row.run,
        ...Object.values(row.fields ?? {}).map((field) => field.run ?? row.run),
      ]),
    );
    expect(Object.keys(EXERCISES).filter((name) => !runs.has(name as ExerciseName))).toEqual([]);
  });

  describe('each mapped request reaches the emulator with the value given', () => {
    let gateway: TestGateway;
    let ids: Record<string, string>;
    beforeAll(async () => {
      gateway = await startGateway({ emulator: { recordRequests: true }, app: { uploads: UPLOAD_LIMITS } });
      ids = await seed(gateway);
    });
    afterAll(() => gateway.close());

    it.each(Object.keys(EXERCISES) as ExerciseName[])('%s', async (name) => {
      const exercise: Exercise = EXERCISES[name];
      const variables = withIds(exercise.variables ?? {}, ids);
      gateway.emulator.resetStats();
      const result = await send(gateway, exercise, variables);
      expect(result.errors).toBeUndefined();
      expect(errorsIn(result.data)).toEqual([]);
      const requests = gateway.emulator.stats().requests;
      expect(requests.filter((request) => request.status === null || request.status >= 400)).toEqual([]);

      const used = coordinatesUsed(exercise.document, withFiles(variables, exercise.files));
      const problems: string[] = [];
      for (const [operation, row] of Object.entries(PARITY)) {
        const route = operation.replace(' ', ' /v1');
        const sentTo = requests.filter((request) => request.route === route);
        const checks: Array<{ field?: SpecField; via: string | string[]; sent?: unknown }> = [];
        if (row.run === name) checks.push({ via: row.via });
        for (const [field, fieldRow] of Object.entries(row.fields ?? {})) {
          if ((fieldRow.run ?? row.run) !== name) continue;
          const specField = specFields.find(
            (candidate) => candidate.operation === operation && candidate.field === field,
          );
          if (specField) checks.push({ field: specField, via: fieldRow.via, sent: fieldRow.sent });
        }
        for (const check of checks) {
          const what = check.field ? `${operation} ${check.field.field}` : operation;
          for (const coordinate of list(check.via)) {
            if (!used.has(coordinate)) problems.push(`${what}: the exercise does not use ${coordinate}`);
          }
          if (sentTo.length === 0) {
            problems.push(`${what}: the emulator received no ${operation}`);
          } else if (check.field) {
            const field = check.field;
            const expected = withIds(check.sent, ids);
            const values = sentTo.map((request) => received(request, field));
            const accepts =
              typeof expected === 'function'
                ? (expected as (value: unknown) => boolean)
                : (value: unknown) => isDeepStrictEqual(value, expected);
            if (!values.some(accepts)) {
              problems.push(
                `${what}: expected ${JSON.stringify(expected)}, received ${JSON.stringify(values)}`,
              );
            }
          }
        }
      }
      expect(problems).toEqual([]);
    });
  });
});
