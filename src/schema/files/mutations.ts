import type { FileUpload } from 'graphql-upload-minimal';
import { createConcurrencyLimit } from '../../concurrency.ts';
import type { Context } from '../../context.ts';
import { discardUploads, receiveUpload } from '../../uploads/receive.ts';
import { type FileObject, UpstreamError } from '../../upstream/index.ts';
import { builder } from '../builder.ts';
import { ChunkingStrategyInput, chunkingParam } from '../chunking.ts';
import { costs, inputPrice, lengthOf } from '../cost.ts';
import {
  type ErrorContext,
  type FileFailureShape,
  fileFailure,
  guarded,
  inputPaths,
  NotFoundError,
  resultOptions,
} from '../errors.ts';
import {
  parseWaitSeconds,
  WAIT_SECONDS_DESCRIPTION,
  waitCalls,
  waitForBatches,
} from '../file-batches/wait.ts';
import { parseVectorStoreId } from '../ids.ts';
import { validateAttributes, validateCount } from '../validation.ts';
import {
  type AttachSettings,
  attachBatches,
  attachCalls,
  attachFiles,
  attachPayload,
  forgetStore,
} from '../vector-store-files/attach.ts';
import { FILE_ATTRIBUTES_INPUT } from '../vector-store-files/types.ts';
import { VECTOR_STORE_ID_INPUT } from '../vector-stores/types.ts';

/**
 * Files streamed to OpenAI at once. The parts of one request arrive one after another, so this
 * mostly overlaps one file's upstream answer with the next file's bytes.
 */
const UPLOAD_CONCURRENCY = 3;

const UploadFilesInput = builder.inputType('UploadFilesInput', {
  description: 'Files to upload (GraphQL multipart request) and attach to a vector store together.',
  fields: (t) => ({
    vectorStoreId: t.id({
      required: true,
      description: VECTOR_STORE_ID_INPUT,
    }),
    files: t.field({
      type: ['Upload'],
      required: true,
      description:
        'The files, streamed to OpenAI as they arrive (at most the configured number per request).',
    }),
    attributes: t.field({
      type: 'JSONObject',
      description: FILE_ATTRIBUTES_INPUT,
    }),
    chunkingStrategy: t.field({
      type: ChunkingStrategyInput,
      description: "How the files are chunked for search; OpenAI's default (auto) when left out.",
    }),
    waitSeconds: t.int({ description: WAIT_SECONDS_DESCRIPTION }),
  }),
});

const UploadFilesPayload = attachPayload(
  'UploadFilesPayload',
  'The uploaded files attached to the store, and an answer for each file that did not make it.',
);

interface UploadOutcome {
  index: number;
  filename: string | null;
  file?: FileObject;
  failure?: FileFailureShape;
}

builder.mutationField('uploadFiles', (t) =>
  t.field({
    // The store; per file, its upload, a look for it should the answer be lost, and its delete
    // should it not attach; the attach; the wait.
    ...costs(
      inputPrice((input) => {
        const files = lengthOf(input.files);
        const calls = 1 + 3 * files + attachCalls(files) + waitCalls(input.waitSeconds, attachBatches(files));
        return { calls, rows: files };
      }),
    ),
    type: UploadFilesPayload,
    description:
      'Streams files to OpenAI (`POST /files`, purpose `assistants`), then attaches them to the store in one file batch. Each file gets its own answer: one that fails leaves nothing upstream and does not stop the others; if attaching fails, the uploaded files are deleted.',
    errors: resultOptions('uploadFiles'),
    args: {
      input: t.arg({ type: UploadFilesInput, required: true, description: 'What to upload, and where.' }),
    },
    resolve: (_root, { input }, context) => {
      const errors: ErrorContext = {
        paths: inputPaths({
          vector_store_id: 'input.vectorStoreId',
          attributes: 'input.attributes',
          chunking_strategy: 'input.chunkingStrategy',
        }),
        notFound: { field: 'input.vectorStoreId', message: 'No such vector store.' },
      };
      return guarded(errors, async () => {
        let vectorStoreId: string;
        const settings: AttachSettings = {};
        let waitSeconds: number | null;
        try {
          vectorStoreId = parseVectorStoreId(String(input.vectorStoreId), 'input.vectorStoreId');
          validateCount(input.files, 'input.files', { min: 1, max: context.uploadLimits.maxFiles }, 'files');
          if (input.attributes)
            settings.attributes = validateAttributes(input.attributes, 'input.attributes');
          if (input.chunkingStrategy) {
            settings.chunking = chunkingParam(input.chunkingStrategy, 'input.chunkingStrategy');
          }
          waitSeconds = parseWaitSeconds(input.waitSeconds, 'input.waitSeconds');
          // One read spares streaming every file only to find there is nowhere to attach it.
          if (!(await context.loaders.vectorStore.load(vectorStoreId))) {
            throw new NotFoundError('input.vectorStoreId', 'No such vector store.');
          }
        } catch (error) {
          discardUploads(input.files);
          throw error;
        }
        const outcomes = await uploadAll(context, input.files);
        const failures = outcomes.flatMap((outcome) => (outcome.failure ? [outcome.failure] : []));
        const uploaded = outcomes.filter((outcome): outcome is UploadOutcome & { file: FileObject } =>
          Boolean(outcome.file),
        );
        const { attached, batches, failed } = context.upstream.cancelled
          ? { attached: [], batches: [], failed: cancelledAll(uploaded) }
          : await attachFiles(
              context,
              vectorStoreId,
              uploaded.map((outcome) => outcome.file.id),
              settings,
            );
        failures.push(...(await removeUnattached(context, uploaded, failed)));
        failures.sort((a, b) => a.index - b.index);
        const attachedIds = new Set(attached);
        const fileIds = uploaded.map((outcome) => outcome.file.id).filter((id) => attachedIds.has(id));
        forgetStore(context, vectorStoreId, fileIds, batches);
        return { vectorStoreId, fileIds, failures, ...(await waitForBatches(context, batches, waitSeconds)) };
      });
    },
  }),
);

/**
 * Streams every file, `UPLOAD_CONCURRENCY` at a time. Each waits for its part before it takes a
 * slot: parts arrive in the client's order, which need not be the list's, and a slot held while
 * waiting for a later part would stall the request.
 */
function uploadAll(context: Context, uploads: readonly Promise<FileUpload>[]): Promise<UploadOutcome[]> {
  const slots = createConcurrencyLimit(UPLOAD_CONCURRENCY);
  const maxBytes = context.uploadLimits.maxFileBytes;
  return Promise.all(
    uploads.map(async (upload, index): Promise<UploadOutcome> => {
      const fail = (filename: string | null, reason: unknown): UploadOutcome => ({
        index,
        filename,
        failure: fileFailure({ index, filename, stage: 'UPLOAD' }, reason),
      });
      const received = await receiveUpload(upload, maxBytes, context.signal);
      if ('problem' in received) return fail(received.filename, received.problem);
      try {
        const file = await slots.run(() => context.upstream.uploadFile(received, { purpose: 'assistants' }));
        context.loaders.file.prime(file.id, file);
        return { index, filename: received.filename, file };
      } catch (error) {
        return fail(received.filename, error);
      }
    }),
  );
}

function cancelledAll(uploaded: ReadonlyArray<{ file: FileObject }>): Map<string, unknown> {
  const cancelled = new UpstreamError(
    'REQUEST_CANCELLED',
    'The request was cancelled before the files were attached.',
  );
  return new Map(uploaded.map((outcome) => [outcome.file.id, cancelled]));
}

/**
 * Deletes the uploaded files that did not get attached, so a failed upload leaves nothing behind;
 * this outlives the request, since a client that went away is one reason to get here.
 */
async function removeUnattached(
  context: Context,
  uploaded: ReadonlyArray<UploadOutcome & { file: FileObject }>,
  failed: ReadonlyMap<string, unknown>,
): Promise<FileFailureShape[]> {
  const unattached = uploaded.filter((outcome) => failed.has(outcome.file.id));
  return Promise.all(
    unattached.map(async ({ index, filename, file }) => {
      const failure = fileFailure({ index, filename, stage: 'ATTACH' }, failed.get(file.id));
      try {
        await context.upstream.deleteFile(file.id, { outlivesRequest: true });
        return { ...failure, message: `${failure.message} The uploaded file was deleted.` };
      } catch {
        return {
          ...failure,
          fileId: file.id,
          message: `${failure.message} The uploaded file ${file.id} could not be deleted; delete it or attach it with addFiles.`,
        };
      }
    }),
  );
}
