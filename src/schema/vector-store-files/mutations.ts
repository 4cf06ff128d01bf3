import { mapConcurrent } from '../../concurrency.ts';
import type { Context } from '../../context.ts';
import { type FileObject, UpstreamError, type VectorStoreFile } from '../../upstream/index.ts';
import type { JsonObject } from '../builder.ts';
import { builder } from '../builder.ts';
import {
  type ChunkingInputShape,
  type ChunkingParam,
  ChunkingStrategyInput,
  chunkingParam,
} from '../chunking.ts';
import { costs, inputPrice, lengthOf, price } from '../cost.ts';
import {
  type ErrorContext,
  FileFailure,
  type FileFailureShape,
  FileProblem,
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
import { fileReads } from '../files/loaders.ts';
import {
  encodeGlobalId,
  encodeNestedId,
  parseFileId,
  parseVectorStoreFileRef,
  parseVectorStoreId,
} from '../ids.ts';
import { type Attributes, parseFileIds, validateAttributes, validateCount } from '../validation.ts';
import { VECTOR_STORE_ID_INPUT, VectorStoreRef } from '../vector-stores/types.ts';
import {
  type AttachSettings,
  attachBatches,
  attachCalls,
  attachFiles,
  attachPayload,
  forgetStore,
  MAX_FILES_PER_BATCH,
} from './attach.ts';
import { FILE_ATTRIBUTES_INPUT, VectorStoreFileRef } from './types.ts';

/** Five batches: beyond that a caller is better served by several requests it can follow. */
const MAX_ADD_FILES = 5 * MAX_FILES_PER_BATCH;
/** OpenAI has no bulk detach: each file is one call, within 300 writes a minute per store. */
const MAX_REMOVE_FILES = 100;
const REMOVE_CONCURRENCY = 5;

const FileSettingsInput = builder.inputType('FileSettingsInput', {
  description: 'Settings of one file of `addFiles`, replacing the shared ones for that file.',
  fields: (t) => ({
    fileId: t.id({ required: true, description: 'The file, as named in `fileIds`.' }),
    attributes: t.field({ type: 'JSONObject', description: 'Its attributes.' }),
    chunkingStrategy: t.field({ type: ChunkingStrategyInput, description: 'How it is chunked.' }),
  }),
});

const AddFilesInput = builder.inputType('AddFilesInput', {
  description: 'Files already uploaded to OpenAI, to attach to a vector store.',
  fields: (t) => ({
    vectorStoreId: t.id({
      required: true,
      description: VECTOR_STORE_ID_INPUT,
    }),
    fileIds: t.idList({
      required: true,
      description: `The files: File global ids or raw file-... ids (1 to ${MAX_ADD_FILES}; a file named twice is attached once). More than ${MAX_FILES_PER_BATCH} go in several batches.`,
    }),
    attributes: t.field({
      type: 'JSONObject',
      description: FILE_ATTRIBUTES_INPUT,
    }),
    chunkingStrategy: t.field({
      type: ChunkingStrategyInput,
      description: "How the files are chunked for search; OpenAI's default (auto) when left out.",
    }),
    perFile: t.field({
      type: [FileSettingsInput],
      description: 'Attributes or chunking of single files of `fileIds`, replacing the shared ones for them.',
    }),
    waitSeconds: t.int({ description: WAIT_SECONDS_DESCRIPTION }),
  }),
});

const AttachFileInput = builder.inputType('AttachFileInput', {
  description: 'One file already uploaded to OpenAI, to attach to a vector store.',
  fields: (t) => ({
    vectorStoreId: t.id({ required: true, description: VECTOR_STORE_ID_INPUT }),
    fileId: t.id({ required: true, description: 'The file: a File global id or a raw file-... id.' }),
    attributes: t.field({ type: 'JSONObject', description: 'Its attributes (up to 16 pairs).' }),
    chunkingStrategy: t.field({
      type: ChunkingStrategyInput,
      description: "How it is chunked for search; OpenAI's default (auto) when left out.",
    }),
  }),
});

const AttachFilePayload = builder
  .objectRef<{ vectorStoreFile: VectorStoreFile }>('AttachFilePayload')
  .implement({
    description: 'The file, attached.',
    fields: (t) => ({
      vectorStoreFile: t.field({
        type: VectorStoreFileRef,
        nullable: true,
        description: 'The file in the store, with its processing state.',
        resolve: (payload) => payload.vectorStoreFile,
      }),
    }),
  });

const AddFilesPayload = attachPayload(
  'AddFilesPayload',
  'The files attached to the store, and an answer for each file that was not.',
);

const RemoveFilesInput = builder.inputType('RemoveFilesInput', {
  description: 'Files to take out of a vector store.',
  fields: (t) => ({
    vectorStoreId: t.id({
      required: true,
      description: VECTOR_STORE_ID_INPUT,
    }),
    fileIds: t.idList({
      required: true,
      description: `The files (1 to ${MAX_REMOVE_FILES}): VectorStoreFile or File global ids, or raw file-... ids.`,
    }),
    deleteFiles: t.boolean({
      description:
        'Also delete the Files themselves once they are out of this store (default false). A deleted File also leaves every other store.',
    }),
  }),
});

interface RemoveFilesPayloadShape {
  vectorStoreId: string;
  removed: string[];
  deleted: string[];
  failures: FileFailureShape[];
}

const RemoveFilesPayload = builder.objectRef<RemoveFilesPayloadShape>('RemoveFilesPayload').implement({
  description: 'What was taken out of the store, and an answer for each file that was not.',
  fields: (t) => ({
    vectorStore: t.field({
      ...costs(price.lookup),
      type: VectorStoreRef,
      nullable: true,
      description: 'The store, read after the removal, so its counts are current.',
      resolve: (payload, _args, context) => context.loaders.vectorStore.load(payload.vectorStoreId),
    }),
    removedIds: t.idList({
      description: 'Global ids of the VectorStoreFiles removed (for a Relay `@deleteEdge`).',
      resolve: (payload) =>
        payload.removed.map((id) =>
          encodeGlobalId('VectorStoreFile', encodeNestedId(payload.vectorStoreId, id)),
        ),
    }),
    deletedFileIds: t.idList({
      description: 'Global ids of the Files deleted, with `deleteFiles: true`.',
      resolve: (payload) => payload.deleted.map((id) => encodeGlobalId('File', id)),
    }),
    failures: t.field({
      type: [FileFailure],
      description: 'The files that were not removed (or not deleted), and why.',
      resolve: (payload) => payload.failures,
    }),
  }),
});

const UpdateVectorStoreFileInput = builder.inputType('UpdateVectorStoreFileInput', {
  description: 'New attributes for a file of a vector store.',
  fields: (t) => ({
    vectorStoreId: t.id({
      required: true,
      description: VECTOR_STORE_ID_INPUT,
    }),
    fileId: t.id({
      required: true,
      description: 'The file: a VectorStoreFile or File global id, or a raw file-... id.',
    }),
    attributes: t.field({
      type: 'JSONObject',
      required: true,
      description: 'The attributes, replacing the current ones (up to 16; `{}` clears them).',
    }),
  }),
});

const UpdateVectorStoreFilePayload = builder
  .objectRef<{ vectorStoreFile: VectorStoreFile }>('UpdateVectorStoreFilePayload')
  .implement({
    description: 'The file with its new attributes.',
    fields: (t) => ({
      vectorStoreFile: t.field({
        type: VectorStoreFileRef,
        nullable: true,
        description: 'The updated file.',
        resolve: (payload) => payload.vectorStoreFile,
      }),
    }),
  });

builder.mutationFields((t) => ({
  addFiles: t.field({
    // The store, whether the files exist, the attach, the wait; the payload lists the files.
    ...costs(
      inputPrice((input) => {
        const files = lengthOf(input.fileIds);
        return {
          calls:
            1 + fileReads(files) + attachCalls(files) + waitCalls(input.waitSeconds, attachBatches(files)),
          rows: files,
        };
      }),
    ),
    type: AddFilesPayload,
    description: `Attaches files already uploaded to OpenAI, through file batches (${MAX_FILES_PER_BATCH} files each). Each file gets its own answer; a file that does not exist does not stop the others.`,
    errors: resultOptions('addFiles'),
    args: {
      input: t.arg({ type: AddFilesInput, required: true, description: 'What to attach, and where.' }),
    },
    resolve: (_root, { input }, context) => {
      // Refusals naming one file of a batch are answered per file by attachFiles, not here.
      const errors: ErrorContext = {
        paths: inputPaths({
          vector_store_id: 'input.vectorStoreId',
          attributes: 'input.attributes',
          chunking_strategy: 'input.chunkingStrategy',
        }),
        notFound: { field: 'input.vectorStoreId', message: 'No such vector store.' },
      };
      return guarded(errors, async () => {
        const vectorStoreId = parseVectorStoreId(String(input.vectorStoreId), 'input.vectorStoreId');
        validateCount(input.fileIds, 'input.fileIds', { min: 1, max: MAX_ADD_FILES }, 'file ids');
        const list = parseFileIds(input.fileIds, 'input.fileIds');
        const settings: AttachSettings = {
          perFile: perFileSettings(input.perFile ?? [], new Set(list.ids)),
        };
        if (input.attributes) settings.attributes = validateAttributes(input.attributes, 'input.attributes');
        if (input.chunkingStrategy) {
          settings.chunking = chunkingParam(input.chunkingStrategy, 'input.chunkingStrategy');
        }
        const waitSeconds = parseWaitSeconds(input.waitSeconds, 'input.waitSeconds');
        const payload = await addFiles(context, vectorStoreId, list.ids, list.positions, settings);
        return { ...payload, ...(await waitForBatches(context, payload.batches, waitSeconds)) };
      });
    },
  }),
  removeFiles: t.field({
    // The store, a detach per file, and a delete per file when asked (OpenAI has no bulk call).
    ...costs(
      inputPrice((input) => {
        const files = lengthOf(input.fileIds);
        return { calls: 1 + files * (input.deleteFiles === true ? 2 : 1), rows: files };
      }),
    ),
    type: RemoveFilesPayload,
    description:
      'Takes files out of a vector store (the Files stay, unless `deleteFiles` is true). Each file gets its own answer.',
    errors: resultOptions('removeFiles'),
    args: {
      input: t.arg({
        type: RemoveFilesInput,
        required: true,
        description: 'What to remove, and from where.',
      }),
    },
    resolve: (_root, { input }, context) => {
      const errors: ErrorContext = {
        paths: inputPaths({ vector_store_id: 'input.vectorStoreId' }),
        notFound: { field: 'input.vectorStoreId', message: 'No such vector store.' },
      };
      return guarded(errors, async () => {
        const vectorStoreId = parseVectorStoreId(String(input.vectorStoreId), 'input.vectorStoreId');
        validateCount(input.fileIds, 'input.fileIds', { min: 1, max: MAX_REMOVE_FILES }, 'file ids');
        const ids: string[] = [];
        const positions: number[] = [];
        input.fileIds.forEach((value, index) => {
          const { fileId } = parseVectorStoreFileRef(String(value), `input.fileIds[${index}]`, vectorStoreId);
          if (ids.includes(fileId)) return;
          ids.push(fileId);
          positions.push(index);
        });
        if (!(await context.loaders.vectorStore.load(vectorStoreId))) {
          throw new NotFoundError('input.vectorStoreId', 'No such vector store.');
        }
        return removeFiles(context, vectorStoreId, ids, positions, input.deleteFiles ?? false);
      });
    },
  }),
  attachFile: t.field({
    // The attach, then the file read back by whoever selects more than it answered with.
    ...costs(price.mutation),
    type: AttachFilePayload,
    description:
      'Attaches one file already uploaded to OpenAI to a vector store, with its own attributes and chunking (`addFiles` attaches many in batches).',
    errors: resultOptions('attachFile'),
    args: {
      input: t.arg({ type: AttachFileInput, required: true, description: 'The file and the store.' }),
    },
    resolve: (_root, { input }, context) => {
      const errors: ErrorContext = {
        paths: inputPaths({
          vector_store_id: 'input.vectorStoreId',
          file_id: 'input.fileId',
          attributes: 'input.attributes',
          chunking_strategy: 'input.chunkingStrategy',
        }),
        notFound: { field: 'input.fileId', message: 'No such file, or no such vector store.' },
      };
      return guarded(errors, async () => {
        const vectorStoreId = parseVectorStoreId(String(input.vectorStoreId), 'input.vectorStoreId');
        const fileId = parseFileId(String(input.fileId), 'input.fileId');
        const vectorStoreFile = await context.upstream.attachFile(vectorStoreId, {
          file_id: fileId,
          ...(input.attributes
            ? { attributes: validateAttributes(input.attributes, 'input.attributes') }
            : {}),
          ...(input.chunkingStrategy
            ? { chunking_strategy: chunkingParam(input.chunkingStrategy, 'input.chunkingStrategy') }
            : {}),
        });
        forgetStore(context, vectorStoreId, []);
        context.loaders.vectorStoreFile.prime(encodeNestedId(vectorStoreId, fileId), vectorStoreFile);
        return { vectorStoreFile };
      });
    },
  }),
  updateVectorStoreFile: t.field({
    ...costs(price.mutation),
    type: UpdateVectorStoreFilePayload,
    description: 'Replaces the attributes of a file of a vector store (what search `filters` match).',
    errors: resultOptions('updateVectorStoreFile'),
    args: {
      input: t.arg({
        type: UpdateVectorStoreFileInput,
        required: true,
        description: 'The file and its attributes.',
      }),
    },
    resolve: (_root, { input }, context) => {
      const errors: ErrorContext = {
        paths: inputPaths({
          vector_store_id: 'input.vectorStoreId',
          file_id: 'input.fileId',
          attributes: 'input.attributes',
        }),
        notFound: { field: 'input.fileId', message: 'No such file in that vector store.' },
      };
      return guarded(errors, async () => {
        const vectorStoreId = parseVectorStoreId(String(input.vectorStoreId), 'input.vectorStoreId');
        const { fileId } = parseVectorStoreFileRef(String(input.fileId), 'input.fileId', vectorStoreId);
        const attributes = validateAttributes(input.attributes, 'input.attributes');
        const vectorStoreFile = await context.upstream.updateVectorStoreFile(
          vectorStoreId,
          fileId,
          attributes,
        );
        context.loaders.vectorStoreFile.clear(encodeNestedId(vectorStoreId, fileId));
        context.loaders.vectorStoreFile.prime(encodeNestedId(vectorStoreId, fileId), vectorStoreFile);
        return { vectorStoreFile };
      });
    },
  }),
}));

/**
 * Files that do not exist are answered from one `GET /files` (the file loader) instead of failing
 * the whole batch they would be in.
 */
async function addFiles(
  context: Context,
  vectorStoreId: string,
  ids: string[],
  positions: number[],
  settings: AttachSettings,
) {
  const [store, files] = await Promise.all([
    context.loaders.vectorStore.load(vectorStoreId),
    context.loaders.file.loadMany(ids),
  ]);
  if (!store) throw new NotFoundError('input.vectorStoreId', 'No such vector store.');
  const failures: FileFailureShape[] = [];
  const existing: string[] = [];
  ids.forEach((id, i) => {
    const file: FileObject | Error | null | undefined = files[i];
    if (file === null) {
      const where = { index: positions[i] ?? i, fileId: id, stage: 'ATTACH' as const };
      failures.push(fileFailure(where, new FileProblem('NOT_FOUND', 'no such file.')));
    } else {
      // A failed lookup proves nothing: the batch decides.
      existing.push(id);
    }
  });
  const position = new Map(ids.map((id, i) => [id, positions[i] ?? i]));
  const result = await attachFiles(context, vectorStoreId, existing, settings);
  for (const [id, reason] of result.failed) {
    failures.push(fileFailure({ index: position.get(id) ?? 0, fileId: id, stage: 'ATTACH' }, reason));
  }
  failures.sort((a, b) => a.index - b.index);
  const attached = new Set(result.attached);
  const fileIds = ids.filter((id) => attached.has(id));
  forgetStore(context, vectorStoreId, fileIds, result.batches);
  return { vectorStoreId, batches: result.batches, fileIds, failures };
}

/** `perFile`, checked: each names a file of `fileIds`, once, with settings OpenAI takes. */
function perFileSettings(
  entries: ReadonlyArray<{
    fileId: string | number;
    attributes?: JsonObject | null;
    chunkingStrategy?: ChunkingInputShape | null;
  }>,
  fileIds: ReadonlySet<string>,
): NonNullable<AttachSettings['perFile']> {
  const settings = new Map<string, { attributes?: Attributes; chunking?: ChunkingParam }>();
  entries.forEach((entry, index) => {
    const field = `input.perFile[${index}]`;
    const fileId = parseFileId(String(entry.fileId), `${field}.fileId`);
    if (!fileIds.has(fileId)) {
      throw new InvalidInputError(`${field}.fileId`, `\`${field}.fileId\` is not one of \`input.fileIds\`.`);
    }
    if (settings.has(fileId)) {
      throw new InvalidInputError(
        `${field}.fileId`,
        `\`${field}.fileId\` names a file already given settings.`,
      );
    }
    settings.set(fileId, {
      ...(entry.attributes
        ? { attributes: validateAttributes(entry.attributes, `${field}.attributes`) }
        : {}),
      ...(entry.chunkingStrategy
        ? { chunking: chunkingParam(entry.chunkingStrategy, `${field}.chunkingStrategy`) }
        : {}),
    });
  });
  return settings;
}

async function removeFiles(
  context: Context,
  vectorStoreId: string,
  ids: string[],
  positions: number[],
  deleteFiles: boolean,
): Promise<RemoveFilesPayloadShape> {
  const outcomes = await mapConcurrent(ids, REMOVE_CONCURRENCY, async (fileId, i) => {
    const index = positions[i] ?? i;
    try {
      await context.upstream.detachFile(vectorStoreId, fileId);
    } catch (error) {
      const reason =
        error instanceof UpstreamError && error.code === 'NOT_FOUND'
          ? new FileProblem('NOT_FOUND', 'it is not in this vector store.')
          : error;
      return { failure: fileFailure({ index, fileId, stage: 'DETACH' }, reason) };
    }
    if (!deleteFiles) return { removed: fileId };
    try {
      // Detached first: deleting an attached File can leave the store's counts stale upstream.
      await context.upstream.deleteFile(fileId);
      return { removed: fileId, deleted: fileId };
    } catch (error) {
      return { removed: fileId, failure: fileFailure({ index, fileId, stage: 'DELETE' }, error) };
    }
  });
  forgetStore(context, vectorStoreId, ids);
  for (const id of ids) context.loaders.file.clear(id);
  return {
    vectorStoreId,
    removed: outcomes.flatMap((outcome) => (outcome.removed ? [outcome.removed] : [])),
    deleted: outcomes.flatMap((outcome) =>
      'deleted' in outcome && outcome.deleted ? [outcome.deleted] : [],
    ),
    failures: outcomes.flatMap((outcome) => (outcome.failure ? [outcome.failure] : [])),
  };
}
