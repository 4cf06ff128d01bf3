/** `/v1/vector_stores`: create, list, retrieve, modify, delete and search. */
import { ApiError, badRequest, invalidType, missingParameter } from './errors.ts';
import { json, type Reply } from './http.ts';
import { ID_PREFIX } from './ids.ts';
import { listPage } from './pagination.ts';
import type { Route, RouteContext } from './router.ts';
import { type AttributeFilter, chunkText, matchesFilter, rankChunks, validateFilter } from './search.ts';
import type {
  EmulatorState,
  FreshRecords,
  StoredFile,
  VectorStoreFileRecord,
  VectorStoreRecord,
} from './state.ts';
import {
  AUTO_CHUNKING,
  expectArray,
  expectBoolean,
  expectId,
  expectInteger,
  expectNumber,
  expectObject,
  optionalNullableString,
  optionalString,
  parseChunkingStrategy,
  parseListParams,
  parseMetadata,
  parseVectorStoreExpiry,
  rejectUnknownKeys,
} from './validation.ts';

export function renderVectorStore(state: EmulatorState, store: VectorStoreRecord, fresh?: FreshRecords) {
  return {
    id: store.id,
    object: 'vector_store' as const,
    created_at: store.createdAt,
    name: store.name,
    description: store.description,
    usage_bytes: state.usageBytes(store, fresh),
    file_counts: state.countFiles(store.files.values(), fresh),
    status: state.storeStatus(store, fresh),
    expires_after: store.expiresAfter,
    expires_at: state.expiresAt(store),
    last_active_at: store.lastActiveAt,
    metadata: store.metadata,
  };
}

/**
 * Resolves body-referenced file ids to stored files, naming the offending element in `param`
 * (e.g. `file_ids[3]`). A missing file is a 404 like any unknown object.
 */
export function resolveFiles(
  state: EmulatorState,
  ids: ReadonlyArray<{ id: unknown; param: string }>,
): StoredFile[] {
  const files = new Map<string, StoredFile>();
  for (const { id, param } of ids) {
    const fileId = expectId(id, param, ID_PREFIX.file);
    const file = state.findFile(fileId);
    if (!file) throw new ApiError(404, `No file found with id '${fileId}'.`, { param });
    files.set(file.id, file);
  }
  return [...files.values()];
}

async function createVectorStore(ctx: RouteContext): Promise<Reply> {
  const body = expectObject((await ctx.body()) ?? {}, 'body');
  rejectUnknownKeys(body, [
    'name',
    'description',
    'file_ids',
    'chunking_strategy',
    'expires_after',
    'metadata',
  ]);
  const name = optionalNullableString(body.name, 'name') ?? null;
  const description = optionalNullableString(body.description, 'description') ?? null;
  const fileIds = body.file_ids == null ? [] : expectArray(body.file_ids, 'file_ids', { min: 0, max: 500 });
  // Only meaningful with file_ids (as documented); validated either way so mistakes surface.
  const chunking =
    body.chunking_strategy == null ? AUTO_CHUNKING : parseChunkingStrategy(body.chunking_strategy);
  const expiresAfter = body.expires_after == null ? null : parseVectorStoreExpiry(body.expires_after);
  const metadata = body.metadata === undefined ? {} : (parseMetadata(body.metadata) ?? {});
  const files = resolveFiles(
    ctx.state,
    fileIds.map((id, index) => ({ id, param: `file_ids[${index}]` })),
  );

  const store = ctx.state.createVectorStore({ name, description, metadata, expiresAfter });
  const fresh = new Set(
    files.map((file) => ctx.state.attach(store, file, { attributes: {}, chunking, batchId: null })),
  );
  return json(renderVectorStore(ctx.state, store, fresh));
}

function listVectorStores(ctx: RouteContext): Reply {
  const params = parseListParams(ctx.query, { defaultLimit: 20, maxLimit: 100, allowBefore: true });
  const render = (store: VectorStoreRecord) => renderVectorStore(ctx.state, store);
  return json(listPage(ctx.state.vectorStores.values(), params, render, ctx.settings));
}

function retrieveVectorStore(ctx: RouteContext): Reply {
  return json(renderVectorStore(ctx.state, ctx.state.getVectorStore(ctx.params.vector_store_id!)));
}

/** Fields present in the body replace the stored value (metadata included); absent ones stay. */
async function modifyVectorStore(ctx: RouteContext): Promise<Reply> {
  const store = ctx.state.getVectorStore(ctx.params.vector_store_id!);
  const body = expectObject((await ctx.body()) ?? {}, 'body');
  rejectUnknownKeys(body, ['name', 'expires_after', 'metadata']);
  const name = optionalNullableString(body.name, 'name');
  const expiresAfter =
    body.expires_after == null ? body.expires_after : parseVectorStoreExpiry(body.expires_after);
  const metadata = body.metadata === undefined ? undefined : parseMetadata(body.metadata);
  if (name !== undefined) store.name = name;
  if (expiresAfter !== undefined) store.expiresAfter = expiresAfter;
  if (metadata !== undefined) store.metadata = metadata ?? {};
  return json(renderVectorStore(ctx.state, store));
}

function deleteVectorStore(ctx: RouteContext): Reply {
  const id = ctx.params.vector_store_id!;
  ctx.state.deleteVectorStore(id);
  return json({ id, object: 'vector_store.deleted', deleted: true });
}

interface SearchRequest {
  queries: string[];
  maxResults: number;
  filter: AttributeFilter | undefined;
  scoreThreshold: number;
}

function parseSearchRequest(raw: unknown): SearchRequest {
  const body = expectObject(raw ?? {}, 'body');
  rejectUnknownKeys(body, ['query', 'filters', 'max_num_results', 'ranking_options', 'rewrite_query']);
  if (body.query === undefined) throw missingParameter('query');
  let queries: string[];
  if (typeof body.query === 'string') {
    queries = [body.query];
  } else if (Array.isArray(body.query)) {
    queries = expectArray(body.query, 'query', { min: 1, max: 50 }).map((item, index) => {
      if (typeof item !== 'string') throw invalidType(`query[${index}]`, 'a string', item);
      return item;
    });
  } else {
    throw badRequest(
      "Invalid type for 'query': expected a string or an array of strings.",
      'query',
      'invalid_type',
    );
  }
  if (queries.every((query) => query.trim() === '')) {
    throw badRequest("Invalid 'query': empty string. Expected a non-empty query.", 'query', 'empty_string');
  }
  const maxResults =
    body.max_num_results === undefined
      ? 10
      : expectInteger(body.max_num_results, 'max_num_results', { min: 1, max: 50 });
  if (body.rewrite_query !== undefined) expectBoolean(body.rewrite_query, 'rewrite_query');
  let filter: AttributeFilter | undefined;
  if (body.filters != null) {
    const problem = validateFilter(body.filters, 'filters');
    if (problem) throw badRequest(problem.message, problem.param, 'invalid_value');
    filter = body.filters as AttributeFilter;
  }
  let scoreThreshold = 0;
  if (body.ranking_options != null) {
    const options = expectObject(body.ranking_options, 'ranking_options');
    rejectUnknownKeys(options, ['ranker', 'score_threshold'], 'ranking_options.');
    const ranker = optionalString(options.ranker, 'ranking_options.ranker');
    if (ranker !== undefined && !['none', 'auto', 'default-2024-11-15'].includes(ranker)) {
      throw badRequest(
        `Invalid value: '${ranker}'. Supported values are: 'none', 'auto' and 'default-2024-11-15'.`,
        'ranking_options.ranker',
        'invalid_value',
      );
    }
    if (options.score_threshold !== undefined) {
      scoreThreshold = expectNumber(options.score_threshold, 'ranking_options.score_threshold', {
        min: 0,
        max: 1,
      });
    }
  }
  return { queries, maxResults, filter, scoreThreshold };
}

/**
 * Ranks every chunk of the store's completed files together and returns the best chunks, one
 * result item per chunk as the real API does; `score_threshold` drops chunks scoring below it.
 * `ranker` and `rewrite_query` are accepted but change nothing: ranking is always lexical and
 * `search_query` echoes the queries as given. No search response was ever recorded, so the page
 * follows the spec's VectorStoreSearchResultsPage: `search_query` is an array (the doc example's
 * plain string is not the schema), with `has_more: false` and `next_page: null`.
 */
async function searchVectorStore(ctx: RouteContext): Promise<Reply> {
  const { state } = ctx;
  const store = state.getVectorStore(ctx.params.vector_store_id!);
  const request = parseSearchRequest(await ctx.body());
  state.assertUsable(store);
  state.touch(store);

  const chunks = new Map<string, { record: VectorStoreFileRecord; text: string }>();
  for (const record of store.files.values()) {
    if (state.fileStatus(record) !== 'completed') continue;
    if (request.filter && !matchesFilter(request.filter, record.attributes)) continue;
    for (const [index, text] of state.chunksOf(record, chunkText).entries()) {
      chunks.set(`${record.id}#${index}`, { record, text });
    }
  }
  const ranked = rankChunks(
    request.queries,
    [...chunks].map(([key, { text }]) => ({ key, text })),
    { scoreThreshold: request.scoreThreshold },
  ).slice(0, request.maxResults);

  const data = ranked.map(({ key, score }) => {
    const { record, text } = chunks.get(key)!;
    return {
      file_id: record.id,
      filename: state.findFile(record.id)?.filename ?? '',
      score,
      attributes: record.attributes,
      content: [{ type: 'text' as const, text }],
    };
  });
  return json({
    object: 'vector_store.search_results.page',
    search_query: request.queries,
    data,
    has_more: false,
    next_page: null,
  });
}

export const vectorStoreRoutes: Route[] = [
  { method: 'POST', template: '/v1/vector_stores', handler: createVectorStore },
  { method: 'GET', template: '/v1/vector_stores', handler: listVectorStores },
  { method: 'GET', template: '/v1/vector_stores/{vector_store_id}', handler: retrieveVectorStore },
  { method: 'POST', template: '/v1/vector_stores/{vector_store_id}', handler: modifyVectorStore },
  { method: 'DELETE', template: '/v1/vector_stores/{vector_store_id}', handler: deleteVectorStore },
  { method: 'POST', template: '/v1/vector_stores/{vector_store_id}/search', handler: searchVectorStore },
];
