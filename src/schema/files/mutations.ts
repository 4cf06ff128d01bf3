import type { FileUpload } from 'graphql-upload-minimal';
import { createConcurrencyLimit } from '../../concurrency.ts';
import type { Context } from '../../context.ts';
import { checkDeclaredSizes, receiveRouted, storeRouteOf } from '../../uploads/declared.ts';
import { discardUploads } from '../../uploads/receive.ts';
import { type FileObject, OPENAI_LIMITS, UpstreamError } from '../../upstream/index.ts';
import { builder } from '../builder.ts';
import { ChunkingStrategyInput, chunkingParam } from '../chunking.ts';
import { costs, inputPrice, lengthOf } from '../cost.ts';
import {
  type ErrorContext,
  type FileFailureShape,
  fileFailure,
  guarded,
  InvalidInputError,
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
import { type Attributes, validateAttributes, validateCount } from '../validation.ts';
import {
  type AttachPayloadShape,
  type AttachSettings,
  attachBatches,
  attachCalls,
  attachFiles,
  attachPayload,
  forgetStore,
} from '../vector-store-files/attach.ts';
import { FILE_ATTRIBUTES_INPUT } from '../vector-store-files/types.ts';
import { VECTOR_STORE_ID_INPUT } from '../vector-stores/types.ts';
import {
  AlreadyPresentFile,
  type AlreadyPresentShape,
  CONTENT_HASH_ATTRIBUTE,
  type Decision,
  DuplicateCheck,
  type DuplicateFinder,
  duplicateCheckCalls,
  duplicateFinder,
} from './duplicates.ts';

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
    sizes: t.field({
      type: ['SafeInt'],
      description:
        "The size in bytes of each file, in the order of `files` (a browser's `File.size`). With it, a file over the size file search takes is refused before any of it is sent, and a file whose bytes differ from its size is refused, leaving nothing upstream.",
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
    duplicates: t.field({
      type: DuplicateCheck,
      description:
        'Skip the files the store already holds, answering them in `alreadyPresent` with the existing file; by default every file is uploaded.',
    }),
  }),
});

const UploadFilesPayload = attachPayload(
  'UploadFilesPayload',
  'The uploaded files attached to the store, and an answer for each file that did not make it.',
);

builder.objectField(UploadFilesPayload, 'alreadyPresent', (t) =>
  t.field({
    type: [AlreadyPresentFile],
    description: 'With `duplicates`: the files the store already held, of which nothing was uploaded.',
    resolve: (payload) => (payload as UploadFilesPayloadShape).alreadyPresent ?? [],
  }),
);

type UploadFilesPayloadShape = AttachPayloadShape & { alreadyPresent?: AlreadyPresentShape[] };

interface UploadOutcome {
  index: number;
  filename: string | null;
  file?: FileObject;
  /** Attributes of this file alone (its content hash). */
  attributes?: Record<string, string> | undefined;
  present?: AlreadyPresentShape;
  failure?: FileFailureShape;
}

builder.mutationField('uploadFiles', (t) =>
  t.field({
    // The store; per file, its upload, a look for it should the answer be lost, and its delete
    // should it not attach; the attach; the wait.
    ...costs(
      inputPrice((input) => {
        const files = lengthOf(input.files);
        const calls =
          1 +
          duplicateCheckCalls(input.duplicates) +
          3 * files +
          attachCalls(files) +
          waitCalls(input.waitSeconds, attachBatches(files));
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
        let finder: DuplicateFinder | undefined;
        let sizes: Array<number | undefined>;
        try {
          vectorStoreId = parseVectorStoreId(String(input.vectorStoreId), 'input.vectorStoreId');
          validateCount(input.files, 'input.files', { min: 1, max: context.uploadLimits.maxFiles }, 'files');
          const checked = checkDeclaredSizes(input.sizes, input.files.length);
          if (!('sizes' in checked)) {
            throw new InvalidInputError(
              checked.index === null ? 'input.sizes' : `input.sizes[${checked.index}]`,
              checked.message,
            );
          }
          sizes = checked.sizes;
          if (input.attributes)
            settings.attributes = validateAttributes(input.attributes, 'input.attributes');
          if (input.chunkingStrategy) {
            settings.chunking = chunkingParam(input.chunkingStrategy, 'input.chunkingStrategy');
          }
          waitSeconds = parseWaitSeconds(input.waitSeconds, 'input.waitSeconds');
          if (input.duplicates === 'SAME_CONTENT') reserveHashAttribute(settings.attributes);
          // One read spares streaming every file only to find there is nowhere to attach it.
          if (!(await context.loaders.vectorStore.load(vectorStoreId))) {
            throw new NotFoundError('input.vectorStoreId', 'No such vector store.');
          }
          finder = input.duplicates
            ? await duplicateFinder(context, vectorStoreId, input.duplicates)
            : undefined;
        } catch (error) {
          discardUploads(input.files);
          throw error;
        }
        const outcomes = await uploadAll(context, input.files, sizes, finder);
        const alreadyPresent = outcomes.flatMap((outcome) => (outcome.present ? [outcome.present] : []));
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
              withOwnAttributes(settings, uploaded),
            );
        failures.push(...(await removeUnattached(context, uploaded, failed)));
        failures.sort((a, b) => a.index - b.index);
        const attachedIds = new Set(attached);
        const fileIds = uploaded.map((outcome) => outcome.file.id).filter((id) => attachedIds.has(id));
        forgetStore(context, vectorStoreId, fileIds, batches);
        const payload: UploadFilesPayloadShape = {
          vectorStoreId,
          fileIds,
          failures,
          alreadyPresent,
          ...(await waitForBatches(context, batches, waitSeconds)),
        };
        return payload;
      });
    },
  }),
);

/**
 * Streams every file, `UPLOAD_CONCURRENCY` at a time. Each waits for its part before it takes a
 * slot: parts arrive in the client's order, which need not be the list's, and a slot held while
 * waiting for a later part would stall the request.
 */
function uploadAll(
  context: Context,
  uploads: readonly Promise<FileUpload>[],
  sizes: ReadonlyArray<number | undefined>,
  finder: DuplicateFinder | undefined,
): Promise<UploadOutcome[]> {
  const slots = createConcurrencyLimit(UPLOAD_CONCURRENCY);
  return Promise.all(
    uploads.map(async (upload, index): Promise<UploadOutcome> => {
      const fail = (filename: string | null, reason: unknown): UploadOutcome => ({
        index,
        filename,
        failure: fileFailure({ index, filename, stage: 'UPLOAD' }, reason),
      });
      const declared = sizes[index];
      const route = storeRouteOf(declared, context.uploadLimits);
      const received = await receiveRouted(upload, route, declared, context.uploadLimits, context.signal);
      if ('problem' in received) return fail(received.filename, received.problem);
      let decision: Decision;
      try {
        decision = finder ? await finder.decide(received) : { file: received, release: async () => {} };
      } catch (error) {
        return fail(received.filename, error);
      }
      if (decision.present) {
        return {
          index,
          filename: received.filename,
          present: { index, filename: received.filename, existing: decision.present },
        };
      }
      try {
        const toUpload = decision.file;
        const file = await slots.run(() => context.upstream.uploadFile(toUpload, { purpose: 'assistants' }));
        context.loaders.file.prime(file.id, file);
        return { index, filename: received.filename, file, attributes: decision.attributes };
      } catch (error) {
        return fail(received.filename, error);
      } finally {
        await decision.release();
      }
    }),
  );
}

/** The shared settings, and for each file with attributes of its own, those added to them. */
function withOwnAttributes(
  settings: AttachSettings,
  uploaded: ReadonlyArray<UploadOutcome & { file: FileObject }>,
): AttachSettings {
  const own = uploaded.filter((outcome) => outcome.attributes);
  if (own.length === 0) return settings;
  return {
    ...settings,
    perFile: new Map(
      own.map((outcome) => [
        outcome.file.id,
        { attributes: { ...settings.attributes, ...outcome.attributes } },
      ]),
    ),
  };
}

/** The content hash takes one of the attributes OpenAI allows a file. */
function reserveHashAttribute(attributes: Attributes | undefined): void {
  const keys = Object.keys(attributes ?? {});
  if (keys.includes(CONTENT_HASH_ATTRIBUTE)) {
    throw new InvalidInputError(
      `input.attributes.${CONTENT_HASH_ATTRIBUTE}`,
      `\`${CONTENT_HASH_ATTRIBUTE}\` is set by \`duplicates: SAME_CONTENT\` itself.`,
    );
  }
  if (keys.length >= OPENAI_LIMITS.pairs.max) {
    throw new InvalidInputError(
      'input.attributes',
      `With \`duplicates: SAME_CONTENT\` a file keeps one attribute for its content hash, so at most ${OPENAI_LIMITS.pairs.max - 1} may be given.`,
    );
  }
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
