import type OpenAI from 'openai';
import type { Context } from '../../context.ts';
import {
  type FileBatch,
  OPENAI_LIMITS,
  UpstreamError,
  type VectorStoreFile,
  walkPages,
} from '../../upstream/index.ts';
import { builder } from '../builder.ts';
import type { ChunkingParam } from '../chunking.ts';
import { costs, price, rowsPrice } from '../cost.ts';
import { FileFailure, type FileFailureShape } from '../errors.ts';
import { FileBatchRef } from '../file-batches/types.ts';
import { WAIT_OUTCOME_DESCRIPTION, WaitOutcome, type WaitOutcomeValue } from '../file-batches/wait.ts';
import { encodeNestedId } from '../ids.ts';
import type { Attributes } from '../validation.ts';
import { VectorStoreRef } from '../vector-stores/types.ts';
import { storeFileReads } from './loaders.ts';
import { VectorStoreFileRef } from './types.ts';

/** OpenAI's cap on the files of one batch; more are split over several batches. */
export const MAX_FILES_PER_BATCH = OPENAI_LIMITS.batchFiles;
/** Sends of one batch in all, counting only those whose failure was verified to have changed nothing. */
const MAX_ATTEMPTS = 2;
/** A batch OpenAI refused because of one named file is sent again without it, this many times. */
const MAX_DROPPED_FILES = 3;
const PAGE = OPENAI_LIMITS.listPage.max;

/** Pages of the store's newest files read to learn which of a batch's files got attached. */
function verificationReads(batchSize: number): number {
  return Math.ceil(batchSize / PAGE) + 1;
}

/**
 * The most upstream calls attaching `files` files makes: per batch, its sends (verified resends
 * and the resends without a refused file) and a verification read after each send whose answer
 * was lost.
 */
export function attachCalls(files: number): number {
  let calls = 0;
  for (let left = files; left > 0; left -= MAX_FILES_PER_BATCH) {
    const size = Math.min(left, MAX_FILES_PER_BATCH);
    calls += MAX_ATTEMPTS + MAX_DROPPED_FILES + MAX_ATTEMPTS * verificationReads(size);
  }
  return calls;
}

/** The most batches attaching `files` files creates: one per 2000, and one per verified resend. */
export function attachBatches(files: number): number {
  return MAX_ATTEMPTS * Math.ceil(files / MAX_FILES_PER_BATCH);
}

export interface AttachResult {
  batches: FileBatch[];
  /** Files known to be attached now, in the order given. */
  attached: string[];
  /** Files that are not attached (or whose state could not be learned), with the reason. */
  failed: Map<string, unknown>;
}

/**
 * Attaches files through file batches (up to 2000 files each), without ever re-sending a batch
 * blindly: the SDK sends no idempotency key, so a batch whose answer was lost (5xx, timeout) may
 * exist upstream. Such a failure is followed by a read of which files are attached; only the rest
 * go out again, once. A refusal (4xx) changed nothing, so a batch refused for one named file goes
 * out again without that file.
 */
/** What the files are attached with: the same for all, or, for some, their own. */
export interface AttachSettings {
  attributes?: Attributes | undefined;
  chunking?: ChunkingParam | undefined;
  /** Settings of single files, which replace the shared ones for those files. */
  perFile?: ReadonlyMap<
    string,
    { attributes?: Attributes | undefined; chunking?: ChunkingParam | undefined }
  >;
}

export async function attachFiles(
  context: Context,
  vectorStoreId: string,
  fileIds: readonly string[],
  settings: AttachSettings,
): Promise<AttachResult> {
  const result: AttachResult = { batches: [], attached: [], failed: new Map() };
  for (let start = 0; start < fileIds.length; start += MAX_FILES_PER_BATCH) {
    await attachBatch(
      context,
      vectorStoreId,
      fileIds.slice(start, start + MAX_FILES_PER_BATCH),
      settings,
      result,
    );
  }
  return result;
}

/**
 * A batch's body: its files with the shared settings, or, when some have their own, each file
 * with its settings (OpenAI then ignores the shared ones, so they are repeated per file).
 */
function batchBody(fileIds: string[], settings: AttachSettings): OpenAI.VectorStores.FileBatchCreateParams {
  const { attributes, chunking, perFile } = settings;
  if (!perFile || !fileIds.some((id) => perFile.has(id))) {
    return { file_ids: fileIds, attributes, chunking_strategy: chunking };
  }
  return {
    files: fileIds.map((id) => {
      const own = perFile.get(id);
      return {
        file_id: id,
        attributes: own?.attributes ?? attributes,
        chunking_strategy: own?.chunking ?? chunking,
      };
    }),
  };
}

async function attachBatch(
  context: Context,
  vectorStoreId: string,
  fileIds: string[],
  settings: AttachSettings,
  result: AttachResult,
): Promise<void> {
  let pending = fileIds;
  let attempts = 0;
  let dropped = 0;
  const failAll = (error: unknown) => {
    for (const id of pending) result.failed.set(id, error);
  };
  while (pending.length > 0) {
    try {
      attempts++;
      const batch = await context.upstream.createFileBatch(vectorStoreId, batchBody(pending, settings));
      result.batches.push(batch);
      result.attached.push(...pending);
      return;
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      const named = namedFile(error, pending);
      if (named !== null && dropped < MAX_DROPPED_FILES) {
        dropped++;
        attempts--;
        result.failed.set(named, error);
        pending = pending.filter((id) => id !== named);
        continue;
      }
      // A refusal changed nothing; after a cancel nothing more can be read to find out.
      if (!mayHaveApplied(error) || context.upstream.cancelled) return failAll(error);
      let present: Set<string>;
      try {
        present = await attachedAmong(context, vectorStoreId, pending);
      } catch {
        return failAll(error);
      }
      result.attached.push(...pending.filter((id) => present.has(id)));
      pending = pending.filter((id) => !present.has(id));
      if (attempts >= MAX_ATTEMPTS) return failAll(error);
    }
  }
}

function mayHaveApplied(error: UpstreamError): boolean {
  return ['UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT', 'REQUEST_CANCELLED'].includes(error.code);
}

/** The file a batch was refused for, when OpenAI named it (`file_ids[3]`, or `files[3]...`). */
function namedFile(error: UpstreamError, sent: readonly string[]): string | null {
  if (error.code !== 'NOT_FOUND' && error.code !== 'UPSTREAM_REJECTED') return null;
  const match = /^(?:file_ids|files)\[(\d+)\]/.exec(error.param ?? '');
  return match ? (sent[Number(match[1])] ?? null) : null;
}

/**
 * Which of the files are attached to the store right now, read fresh. A batch's files are the
 * store's newest once attached, so its newest files are read, newest first, a page more than the
 * batch could fill; a file not among them is taken as not attached (and is sent again).
 */
async function attachedAmong(
  context: Context,
  vectorStoreId: string,
  fileIds: readonly string[],
): Promise<Set<string>> {
  const wanted = new Set(fileIds);
  const present = new Set<string>();
  let reads = 0;
  const pages = walkPages((after) =>
    context.upstream.listVectorStoreFiles(vectorStoreId, { limit: PAGE, order: 'desc', after }),
  );
  for await (const page of pages) {
    for (const file of page.data) if (wanted.has(file.id)) present.add(file.id);
    if (present.size === wanted.size || ++reads >= verificationReads(fileIds.length)) break;
  }
  return present;
}

/** What `uploadFiles` and `addFiles` answer: objects are read fresh when selected. */
export interface AttachPayloadShape {
  vectorStoreId: string;
  batches: FileBatch[];
  /** Attached files, in input order. */
  fileIds: string[];
  failures: FileFailureShape[];
  /** Set when the mutation was asked to wait for processing (`waitSeconds`). */
  waitOutcome?: WaitOutcomeValue | null;
}

/** Forgets what this request cached about the store and its files, so the payload reads them anew. */
export function forgetStore(
  context: Context,
  vectorStoreId: string,
  fileIds: readonly string[],
  batches: readonly FileBatch[] = [],
): void {
  context.loaders.vectorStore.clear(vectorStoreId);
  for (const id of fileIds) context.loaders.vectorStoreFile.clear(encodeNestedId(vectorStoreId, id));
  for (const batch of batches) context.loaders.fileBatch.clear(encodeNestedId(vectorStoreId, batch.id));
}

export async function loadVectorStoreFiles(
  context: Context,
  vectorStoreId: string,
  fileIds: readonly string[],
): Promise<VectorStoreFile[]> {
  const files = await context.loaders.vectorStoreFile.loadMany(
    fileIds.map((id) => encodeNestedId(vectorStoreId, id)),
  );
  return files.filter((file): file is VectorStoreFile => {
    if (file instanceof Error) throw file;
    return file !== null;
  });
}

export function attachPayload(
  name: 'UploadFilesPayload' | 'AddFilesPayload' | 'RecreateVectorStorePayload',
  description: string,
) {
  return builder.objectRef<AttachPayloadShape>(name).implement({
    description,
    fields: (t) => ({
      vectorStore: t.field({
        ...costs(price.lookup),
        type: VectorStoreRef,
        nullable: true,
        description: 'The store, read after the files were attached, so its counts are current.',
        resolve: (payload, _args, context) => context.loaders.vectorStore.load(payload.vectorStoreId),
      }),
      fileBatch: t.field({
        ...costs(price.perPage),
        type: FileBatchRef,
        nullable: true,
        description:
          'The batch that attached the files (the first one, when there were several); null when none was created.',
        resolve: (payload, _args, context) => {
          const batch = payload.batches[0];
          return batch
            ? context.loaders.fileBatch.load(encodeNestedId(batch.vector_store_id, batch.id))
            : null;
        },
      }),
      fileBatches: t.field({
        ...costs(rowsPrice(attachBatches)),
        type: [FileBatchRef],
        description: `Every batch created: one per ${MAX_FILES_PER_BATCH} files, plus one per verified resend.`,
        resolve: async (payload, _args, context) => {
          const batches = await context.loaders.fileBatch.loadMany(
            payload.batches.map((batch) => encodeNestedId(batch.vector_store_id, batch.id)),
          );
          // A batch that cannot be read again is given as OpenAI answered its creation, so this
          // list never fails after the files were attached.
          return batches.flatMap((batch, index): FileBatch[] => {
            if (batch instanceof Error) return payload.batches[index] ? [payload.batches[index]] : [];
            return batch === null ? [] : [batch];
          });
        },
      }),
      files: t.field({
        ...costs(rowsPrice(storeFileReads)),
        type: [VectorStoreFileRef],
        nullable: true,
        description:
          'The files now attached, in input order, with their processing state. Null when they could not be read again; `failures` still answers for each file.',
        resolve: (payload, _args, context) =>
          loadVectorStoreFiles(context, payload.vectorStoreId, payload.fileIds),
      }),
      failures: t.field({
        type: [FileFailure],
        description: 'The files that were not attached, and why. Empty when every file made it.',
        resolve: (payload) => payload.failures,
      }),
      waitOutcome: t.field({
        type: WaitOutcome,
        nullable: true,
        description: WAIT_OUTCOME_DESCRIPTION,
        resolve: (payload) => payload.waitOutcome ?? null,
      }),
    }),
  });
}
