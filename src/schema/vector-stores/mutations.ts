import type OpenAI from 'openai';
import { mapConcurrent } from '../../concurrency.ts';
import type { Context } from '../../context.ts';
import { OPENAI_LIMITS, type VectorStore } from '../../upstream/index.ts';
import { builder } from '../builder.ts';
import { ChunkingStrategyInput, chunkingParam } from '../chunking.ts';
import { costs, inputPrice, price } from '../cost.ts';
import {
  type ErrorContext,
  FileFailure,
  type FileFailureShape,
  fileFailure,
  guarded,
  InvalidInputError,
  inputPaths,
  resultOptions,
} from '../errors.ts';
import { encodeGlobalId, parseVectorStoreId } from '../ids.ts';
import { parseFileIds, validateCount, validateExpiresAfter, validateMetadata } from '../validation.ts';
import { VectorStoreRef } from './types.ts';

/** OpenAI's cap on `file_ids` when creating a store; addFiles takes more. */
const MAX_CREATE_FILE_IDS = OPENAI_LIMITS.createStoreFileIds;
const DELETE_CONCURRENCY = 5;
/**
 * The most Files `deleteFiles` deletes with a store: one page of its files. OpenAI deletes Files
 * one call at a time, so a larger cascade is `removeFiles` with `deleteFiles`, 100 at a time.
 */
export const MAX_CASCADE_FILES = OPENAI_LIMITS.listPage.max;

export const ExpirationPolicyInput = builder.inputType('ExpirationPolicyInput', {
  description: 'When a vector store expires: a number of days after it was last active.',
  fields: (t) => ({
    anchor: t.string({ description: 'The timestamp counted from; only `last_active_at` (the default).' }),
    days: t.int({ required: true, description: 'Days after the anchor, 1 to 365.' }),
  }),
});

const CreateVectorStoreInput = builder.inputType('CreateVectorStoreInput', {
  description: 'A new vector store.',
  fields: (t) => ({
    name: t.string({ description: 'Its name.' }),
    description: t.string({ description: 'What it holds.' }),
    fileIds: t.idList({
      description: `Files to attach at once (up to ${MAX_CREATE_FILE_IDS}): File global ids or raw file-... ids.`,
    }),
    metadata: t.field({
      type: 'JSONObject',
      description: 'Up to 16 string pairs (keys up to 64 characters, values up to 512).',
    }),
    expiresAfter: t.field({ type: ExpirationPolicyInput, description: 'When it expires; never by default.' }),
    chunkingStrategy: t.field({
      type: ChunkingStrategyInput,
      description:
        "How the files of `fileIds` are chunked for search; OpenAI's default (auto) when left out.",
    }),
  }),
});

const UpdateVectorStoreInput = builder.inputType('UpdateVectorStoreInput', {
  description: 'Changes to a vector store; fields left out stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The store: a VectorStore global id or a raw vs_... id.' }),
    name: t.string({ description: 'Its new name; null clears it.' }),
    metadata: t.field({
      type: 'JSONObject',
      description: 'Its new metadata, replacing the current pairs (up to 16); null clears them.',
    }),
    expiresAfter: t.field({
      type: ExpirationPolicyInput,
      description: 'Its new expiration policy; null makes it never expire.',
    }),
  }),
});

const DeleteVectorStoreInput = builder.inputType('DeleteVectorStoreInput', {
  description: 'A vector store to delete.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The store: a VectorStore global id or a raw vs_... id.' }),
    deleteFiles: t.boolean({
      description:
        'Also delete every File attached to it (default false: the Files stay). A deleted File also leaves every other store.',
    }),
  }),
});

const VectorStorePayload = (name: string, description: string) =>
  builder.objectRef<{ vectorStore: VectorStore }>(name).implement({
    description,
    fields: (t) => ({
      vectorStore: t.field({
        type: VectorStoreRef,
        nullable: true,
        description: 'The store as OpenAI answered the change.',
        resolve: (payload) => payload.vectorStore,
      }),
    }),
  });

const CreateVectorStorePayload = VectorStorePayload('CreateVectorStorePayload', 'The new vector store.');
const UpdateVectorStorePayload = VectorStorePayload('UpdateVectorStorePayload', 'The changed vector store.');

interface DeleteVectorStorePayloadShape {
  id: string;
  deletedFiles: string[];
  failures: FileFailureShape[];
}

const DeleteVectorStorePayload = builder
  .objectRef<DeleteVectorStorePayloadShape>('DeleteVectorStorePayload')
  .implement({
    description: 'What was deleted.',
    fields: (t) => ({
      deletedId: t.id({
        nullable: true,
        description: 'The global id of the deleted store.',
        resolve: (payload) => encodeGlobalId('VectorStore', payload.id),
      }),
      deletedOpenaiId: t.string({
        nullable: true,
        description: 'The OpenAI id of the deleted store (vs_...).',
        resolve: (payload) => payload.id,
      }),
      deletedFileIds: t.idList({
        description: 'Global ids of the Files deleted with it, with `deleteFiles: true`.',
        resolve: (payload) => payload.deletedFiles.map((id) => encodeGlobalId('File', id)),
      }),
      failures: t.field({
        type: [FileFailure],
        description: 'The Files that could not be deleted, and why (the store itself is gone).',
        resolve: (payload) => payload.failures,
      }),
    }),
  });

const STORE_PARAMS = {
  name: 'input.name',
  description: 'input.description',
  metadata: 'input.metadata',
  expires_after: 'input.expiresAfter',
};

builder.mutationFields((t) => ({
  createVectorStore: t.field({
    ...costs(price.mutation),
    type: CreateVectorStorePayload,
    description: 'Creates a vector store, optionally with files attached at once.',
    errors: resultOptions('createVectorStore'),
    args: { input: t.arg({ type: CreateVectorStoreInput, required: true, description: 'The new store.' }) },
    resolve: (_root, { input }, context) => {
      let positions: number[] = [];
      const errors: ErrorContext = {
        paths: inputPaths(
          { ...STORE_PARAMS, file_ids: 'input.fileIds', chunking_strategy: 'input.chunkingStrategy' },
          (sent) => positions[sent] ?? null,
        ),
        notFound: { field: 'input.fileIds', message: 'A file of `input.fileIds` does not exist.' },
      };
      return guarded(errors, async () => {
        const body: OpenAI.VectorStores.VectorStoreCreateParams = {};
        if (input.name != null) body.name = input.name;
        if (input.description != null) body.description = input.description;
        if (input.fileIds) {
          validateCount(input.fileIds, 'input.fileIds', { max: MAX_CREATE_FILE_IDS }, 'file ids');
          const list = parseFileIds(input.fileIds, 'input.fileIds');
          positions = list.positions;
          if (list.ids.length > 0) body.file_ids = list.ids;
        }
        if (input.metadata) body.metadata = validateMetadata(input.metadata, 'input.metadata');
        if (input.expiresAfter)
          body.expires_after = validateExpiresAfter(input.expiresAfter, 'input.expiresAfter');
        if (input.chunkingStrategy) {
          // OpenAI applies it to the files created with the store, and to nothing else.
          if (!body.file_ids) {
            throw new InvalidInputError(
              'input.chunkingStrategy',
              '`input.chunkingStrategy` applies to the files of `input.fileIds`: give some.',
            );
          }
          body.chunking_strategy = chunkingParam(input.chunkingStrategy, 'input.chunkingStrategy');
        }
        const vectorStore = await context.upstream.createVectorStore(body);
        context.loaders.vectorStore.prime(vectorStore.id, vectorStore);
        return { vectorStore };
      });
    },
  }),
  updateVectorStore: t.field({
    ...costs(price.mutation),
    type: UpdateVectorStorePayload,
    description: 'Renames a vector store, or changes its metadata or expiration policy.',
    errors: resultOptions('updateVectorStore'),
    args: { input: t.arg({ type: UpdateVectorStoreInput, required: true, description: 'The changes.' }) },
    resolve: (_root, { input }, context) => {
      const errors: ErrorContext = {
        paths: inputPaths({ ...STORE_PARAMS, vector_store_id: 'input.id' }),
        notFound: { field: 'input.id', message: 'No such vector store.' },
      };
      return guarded(errors, async () => {
        const id = parseVectorStoreId(String(input.id), 'input.id');
        // Explicit nulls clear a value; absent fields are left out of the request.
        const body: OpenAI.VectorStores.VectorStoreUpdateParams = {};
        if (input.name !== undefined) body.name = input.name;
        if (input.metadata !== undefined) {
          body.metadata = input.metadata === null ? null : validateMetadata(input.metadata, 'input.metadata');
        }
        if (input.expiresAfter !== undefined) {
          body.expires_after =
            input.expiresAfter === null
              ? null
              : validateExpiresAfter(input.expiresAfter, 'input.expiresAfter');
        }
        const vectorStore = await context.upstream.updateVectorStore(id, body);
        context.loaders.vectorStore.clear(id);
        context.loaders.vectorStore.prime(id, vectorStore);
        return { vectorStore };
      });
    },
  }),
  deleteVectorStore: t.field({
    // The delete; with deleteFiles, one page of the store's files and a delete per File.
    ...costs(
      inputPrice((input) => ({ calls: 1 + (input.deleteFiles === true ? 1 + MAX_CASCADE_FILES : 0) })),
    ),
    type: DeleteVectorStorePayload,
    description: `Deletes a vector store. Its Files stay, unless \`deleteFiles\` is true: then they are listed first and deleted after the store, for a store of up to ${MAX_CASCADE_FILES} files (a larger one is refused, and nothing is deleted: remove its files with \`removeFiles\` first).`,
    errors: resultOptions('deleteVectorStore'),
    args: { input: t.arg({ type: DeleteVectorStoreInput, required: true, description: 'The store.' }) },
    resolve: (_root, { input }, context) => {
      const errors: ErrorContext = {
        paths: inputPaths({ vector_store_id: 'input.id' }),
        notFound: { field: 'input.id', message: 'No such vector store.' },
      };
      return guarded(errors, async () => {
        const id = parseVectorStoreId(String(input.id), 'input.id');
        // Listed before the store goes, since its file list goes with it.
        const fileIds = input.deleteFiles ? await cascadeFileIds(context, id) : [];
        await context.upstream.deleteVectorStore(id);
        context.loaders.vectorStore.clear(id);
        const outcomes = await mapConcurrent(fileIds, DELETE_CONCURRENCY, async (fileId, index) => {
          try {
            await context.upstream.deleteFile(fileId);
            context.loaders.file.clear(fileId);
            return { deleted: fileId };
          } catch (error) {
            return { failure: fileFailure({ index, fileId, stage: 'DELETE' }, error) };
          }
        });
        return {
          id,
          deletedFiles: outcomes.flatMap((outcome) => (outcome.deleted ? [outcome.deleted] : [])),
          failures: outcomes.flatMap((outcome) => (outcome.failure ? [outcome.failure] : [])),
        };
      });
    },
  }),
}));

/** The store's files, when they fit in a cascade; a larger store is refused before any write. */
async function cascadeFileIds(context: Context, vectorStoreId: string): Promise<string[]> {
  const page = await context.upstream.listVectorStoreFiles(vectorStoreId, {
    limit: MAX_CASCADE_FILES,
    order: 'asc',
  });
  if (page.hasMore) {
    throw new InvalidInputError(
      'input.deleteFiles',
      `The store holds more than ${MAX_CASCADE_FILES} files, more than one delete can take along: remove them with \`removeFiles\` (\`deleteFiles: true\`, ${MAX_CASCADE_FILES} at a time) first; nothing was deleted.`,
    );
  }
  return page.data.map((file) => file.id);
}
