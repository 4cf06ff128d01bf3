/** `/v1/vector_stores/{id}/files`: attach, list, retrieve, update attributes, detach, content. */
import { missingParameter } from './errors.ts';
import { json, type Reply } from './http.ts';
import { listPage } from './pagination.ts';
import type { Route, RouteContext } from './router.ts';
import type { EmulatorState, FreshRecords, VectorStoreFileRecord, VectorStoreFileStatus } from './state.ts';
import {
  AUTO_CHUNKING,
  expectObject,
  parseAttributes,
  parseChunkingStrategy,
  parseEnumQuery,
  parseListParams,
  rejectUnknownKeys,
} from './validation.ts';
import { resolveFiles } from './vector-stores.ts';

/**
 * `openai-poll-after-ms` tells the SDK's poll helpers when to ask again (openai-node
 * src/resources/vector-stores/files.ts and file-batches.ts read it). No recorded real response
 * carries it, though the recordings hold no GET polls, where it would be expected; so it is sent
 * only when `EmulatorOptions.pollAfterMs` asks for it.
 */
export function pollAfterHeaders(ctx: RouteContext): Record<string, string> | undefined {
  const ms = ctx.settings.pollAfterMs;
  return ms === null ? undefined : { 'openai-poll-after-ms': String(ms) };
}

const FILE_STATUSES: readonly VectorStoreFileStatus[] = ['in_progress', 'completed', 'failed', 'cancelled'];

export function renderVectorStoreFile(
  state: EmulatorState,
  record: VectorStoreFileRecord,
  fresh?: FreshRecords,
) {
  const status = state.fileStatus(record, fresh);
  return {
    id: record.id,
    object: 'vector_store.file' as const,
    usage_bytes: state.fileUsageBytes(record, fresh),
    created_at: record.createdAt,
    vector_store_id: record.vectorStoreId,
    status,
    last_error: status === 'failed' ? record.indexError : null,
    chunking_strategy: {
      type: 'static' as const,
      static: {
        max_chunk_size_tokens: record.chunking.maxChunkSizeTokens,
        chunk_overlap_tokens: record.chunking.chunkOverlapTokens,
      },
    },
    attributes: record.attributes,
  };
}

/** One page of vector-store files, filtered by status before the cursor is looked up. */
export function listVectorStoreFiles(ctx: RouteContext, records: Iterable<VectorStoreFileRecord>): Reply {
  const params = parseListParams(ctx.query, { defaultLimit: 20, maxLimit: 100, allowBefore: true });
  const filter = parseEnumQuery(ctx.query, 'filter', FILE_STATUSES);
  const matching = [...records].filter(
    (record) => filter === undefined || ctx.state.fileStatus(record) === filter,
  );
  return json(listPage(matching, params, (record) => renderVectorStoreFile(ctx.state, record), ctx.settings));
}

async function attachFile(ctx: RouteContext): Promise<Reply> {
  const { state } = ctx;
  const store = state.getVectorStore(ctx.params.vector_store_id!);
  const body = expectObject((await ctx.body()) ?? {}, 'body');
  rejectUnknownKeys(body, ['file_id', 'attributes', 'chunking_strategy']);
  if (body.file_id === undefined) throw missingParameter('file_id');
  const attributes = body.attributes == null ? {} : (parseAttributes(body.attributes) ?? {});
  const chunking =
    body.chunking_strategy == null ? AUTO_CHUNKING : parseChunkingStrategy(body.chunking_strategy);
  const [file] = resolveFiles(state, [{ id: body.file_id, param: 'file_id' }]);
  state.assertUsable(store);
  const record = state.attach(store, file!, { attributes, chunking, batchId: null });
  return json(renderVectorStoreFile(state, record, new Set([record])), pollAfterHeaders(ctx));
}

function listFiles(ctx: RouteContext): Reply {
  const store = ctx.state.getVectorStore(ctx.params.vector_store_id!);
  return listVectorStoreFiles(ctx, store.files.values());
}

function retrieveFile(ctx: RouteContext): Reply {
  const store = ctx.state.getVectorStore(ctx.params.vector_store_id!);
  const record = ctx.state.getVectorStoreFile(store, ctx.params.file_id!);
  return json(renderVectorStoreFile(ctx.state, record), pollAfterHeaders(ctx));
}

/** `attributes: null` clears them; the wire then shows `{}` like a file that never had any. */
async function updateAttributes(ctx: RouteContext): Promise<Reply> {
  const store = ctx.state.getVectorStore(ctx.params.vector_store_id!);
  const record = ctx.state.getVectorStoreFile(store, ctx.params.file_id!);
  const body = expectObject((await ctx.body()) ?? {}, 'body');
  rejectUnknownKeys(body, ['attributes']);
  if (body.attributes === undefined) throw missingParameter('attributes');
  record.attributes = parseAttributes(body.attributes) ?? {};
  return json(renderVectorStoreFile(ctx.state, record));
}

/** Detaches only: the File itself survives, as documented. */
function detachFile(ctx: RouteContext): Reply {
  const store = ctx.state.getVectorStore(ctx.params.vector_store_id!);
  const record = ctx.state.getVectorStoreFile(store, ctx.params.file_id!);
  store.files.delete(record.id);
  return json({ id: record.id, object: 'vector_store.file.deleted', deleted: true });
}

/**
 * The spec's VectorStoreFileContentResponse: `{object: "vector_store.file_content.page", data:
 * [{type: "text", text}], has_more, next_page}`. No real response was ever recorded (and
 * openai/openai-node#1691 reports upstream 404s here); the operation's doc example shows another
 * shape, but the SDK reads `data`, so the schema form it is. The whole parsed text is one item,
 * once processing completed; before that, or after a failure, the page is empty.
 */
function fileContent(ctx: RouteContext): Reply {
  const store = ctx.state.getVectorStore(ctx.params.vector_store_id!);
  const record = ctx.state.getVectorStoreFile(store, ctx.params.file_id!);
  const completed = ctx.state.fileStatus(record) === 'completed';
  return json({
    object: 'vector_store.file_content.page',
    data: completed ? [{ type: 'text', text: ctx.state.textOf(record) }] : [],
    has_more: false,
    next_page: null,
  });
}

export const vectorStoreFileRoutes: Route[] = [
  { method: 'POST', template: '/v1/vector_stores/{vector_store_id}/files', handler: attachFile },
  { method: 'GET', template: '/v1/vector_stores/{vector_store_id}/files', handler: listFiles },
  { method: 'GET', template: '/v1/vector_stores/{vector_store_id}/files/{file_id}', handler: retrieveFile },
  {
    method: 'POST',
    template: '/v1/vector_stores/{vector_store_id}/files/{file_id}',
    handler: updateAttributes,
  },
  { method: 'DELETE', template: '/v1/vector_stores/{vector_store_id}/files/{file_id}', handler: detachFile },
  {
    method: 'GET',
    template: '/v1/vector_stores/{vector_store_id}/files/{file_id}/content',
    handler: fileContent,
  },
];
