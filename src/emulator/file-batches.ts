/** `/v1/vector_stores/{id}/file_batches`: create, retrieve, cancel and list files. */
import { badRequest, missingParameter } from './errors.ts';
import { json, type Reply } from './http.ts';
import type { Route, RouteContext } from './router.ts';
import type { EmulatorState, FileBatchRecord, FreshRecords, StoredFile } from './state.ts';
import {
  type Attributes,
  AUTO_CHUNKING,
  expectArray,
  expectObject,
  parseAttributes,
  parseChunkingStrategy,
  rejectUnknownKeys,
  type StaticChunking,
} from './validation.ts';
import { listVectorStoreFiles, pollAfterHeaders } from './vector-store-files.ts';
import { resolveFiles } from './vector-stores.ts';

const MAX_BATCH_FILES = 2000;

export function renderFileBatch(state: EmulatorState, batch: FileBatchRecord, fresh?: FreshRecords) {
  return {
    id: batch.id,
    // The wire name; the spec's enum and the SDK type say `vector_store.files_batch` (as recorded in openai/openai-dotnet tests/SessionRecords/VectorStoresTests).
    object: 'vector_store.file_batch' as const,
    created_at: batch.createdAt,
    vector_store_id: batch.vectorStoreId,
    status: state.batchStatus(batch, fresh),
    file_counts: state.countFiles(state.batchFiles(batch), fresh),
  };
}

interface BatchEntry {
  file: StoredFile;
  attributes: Attributes;
  chunking: StaticChunking;
}

/**
 * `file_ids` takes the top-level attributes and chunking strategy; `files` carries its own per
 * entry and the top-level ones are ignored, as documented. A file listed twice is attached once.
 */
function parseBatchEntries(state: EmulatorState, body: Record<string, unknown>): BatchEntry[] {
  rejectUnknownKeys(body, ['file_ids', 'files', 'attributes', 'chunking_strategy']);
  if (body.file_ids !== undefined && body.files !== undefined) {
    throw badRequest("Only one of 'file_ids' and 'files' may be given, not both.", 'files', 'invalid_value');
  }
  if (body.files !== undefined) {
    const items = expectArray(body.files, 'files', { min: 1, max: MAX_BATCH_FILES });
    const entries = items.map((item, index): BatchEntry => {
      const param = `files[${index}]`;
      const entry = expectObject(item, param);
      rejectUnknownKeys(entry, ['file_id', 'attributes', 'chunking_strategy'], `${param}.`);
      if (entry.file_id === undefined) throw missingParameter(`${param}.file_id`);
      const [file] = resolveFiles(state, [{ id: entry.file_id, param: `${param}.file_id` }]);
      return {
        file: file!,
        attributes:
          entry.attributes == null ? {} : (parseAttributes(entry.attributes, `${param}.attributes`) ?? {}),
        chunking:
          entry.chunking_strategy == null
            ? AUTO_CHUNKING
            : parseChunkingStrategy(entry.chunking_strategy, `${param}.chunking_strategy`),
      };
    });
    const seen = new Set<string>();
    return entries.filter((entry) => !seen.has(entry.file.id) && seen.add(entry.file.id));
  }
  if (body.file_ids === undefined) throw missingParameter('file_ids');
  const ids = expectArray(body.file_ids, 'file_ids', { min: 1, max: MAX_BATCH_FILES });
  const attributes = body.attributes == null ? {} : (parseAttributes(body.attributes) ?? {});
  const chunking =
    body.chunking_strategy == null ? AUTO_CHUNKING : parseChunkingStrategy(body.chunking_strategy);
  const files = resolveFiles(
    state,
    ids.map((id, index) => ({ id, param: `file_ids[${index}]` })),
  );
  return files.map((file) => ({ file, attributes, chunking }));
}

async function createBatch(ctx: RouteContext): Promise<Reply> {
  const { state } = ctx;
  const store = state.getVectorStore(ctx.params.vector_store_id!);
  const entries = parseBatchEntries(state, expectObject((await ctx.body()) ?? {}, 'body'));
  state.assertUsable(store);
  const batch = state.createBatch(store);
  const fresh = new Set(
    entries.map((entry) =>
      state.attach(store, entry.file, {
        attributes: entry.attributes,
        chunking: entry.chunking,
        batchId: batch.id,
      }),
    ),
  );
  return json(renderFileBatch(state, batch, fresh), pollAfterHeaders(ctx));
}

function batchFromPath(ctx: RouteContext): FileBatchRecord {
  const store = ctx.state.getVectorStore(ctx.params.vector_store_id!);
  return ctx.state.getBatch(store, ctx.params.batch_id!);
}

function retrieveBatch(ctx: RouteContext): Reply {
  return json(renderFileBatch(ctx.state, batchFromPath(ctx)), pollAfterHeaders(ctx));
}

/**
 * Cancels the batch's unfinished files at once, so the response already shows the batch
 * `cancelled` (there is no `cancelling` status for file batches). Cancelling a finished batch
 * changes nothing and returns it as it is.
 */
function cancelBatch(ctx: RouteContext): Reply {
  const batch = batchFromPath(ctx);
  ctx.state.cancelBatch(batch);
  return json(renderFileBatch(ctx.state, batch));
}

function listBatchFiles(ctx: RouteContext): Reply {
  return listVectorStoreFiles(ctx, ctx.state.batchFiles(batchFromPath(ctx)));
}

export const fileBatchRoutes: Route[] = [
  { method: 'POST', template: '/v1/vector_stores/{vector_store_id}/file_batches', handler: createBatch },
  {
    method: 'GET',
    template: '/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}',
    handler: retrieveBatch,
  },
  {
    method: 'POST',
    template: '/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel',
    handler: cancelBatch,
  },
  {
    method: 'GET',
    template: '/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/files',
    handler: listBatchFiles,
  },
];
