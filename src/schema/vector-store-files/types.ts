import { resolveArrayConnection } from '@pothos/plugin-relay';
import type {
  FileContent,
  FileCounts,
  FileStatus,
  ListOrder,
  Page,
  PageParams,
  VectorStoreFile,
} from '../../upstream/index.ts';
import { builder, fromUnixSeconds, objectKind, SortOrder } from '../builder.ts';
import { ChunkingStrategy } from '../chunking.ts';
import { type ConnectionArgs, connectionFromUpstream, PAGE_SIZE } from '../connections.ts';
import { costs, price } from '../cost.ts';
import { FileRef } from '../files/types.ts';
import { encodeNestedId, parseVectorStoreFileRef } from '../ids.ts';
import { primeWith } from '../loading.ts';
import { parentVectorStore, VectorStoreRef } from '../vector-stores/types.ts';

export const VectorStoreFileRef = builder.objectRef<VectorStoreFile>('VectorStoreFile');

/** How inputs describe the attributes they set on files. */
export const FILE_ATTRIBUTES_INPUT =
  'Attributes set on every file (up to 16; values a string up to 512, a number or a boolean).';

export const VectorStoreFileStatus = builder.enumType('VectorStoreFileStatus', {
  description: 'Where a file is in its processing for search.',
  values: {
    IN_PROGRESS: { value: 'in_progress', description: 'Being chunked and embedded.' },
    COMPLETED: { value: 'completed', description: 'Searchable.' },
    FAILED: { value: 'failed', description: 'Could not be processed; see `lastError`.' },
    CANCELLED: { value: 'cancelled', description: 'Its batch was cancelled before it was processed.' },
  } as const,
});

const VectorStoreFileError = builder
  .objectRef<{ code: string; message: string }>('VectorStoreFileError')
  .implement({
    description: 'Why a file failed to process.',
    fields: (t) => ({
      code: t.exposeString('code', { description: '`server_error`, `unsupported_file` or `invalid_file`.' }),
      message: t.exposeString('message', { description: 'A human-readable explanation.' }),
    }),
  });

builder.node(VectorStoreFileRef, {
  description: 'A file attached to a vector store, with its processing state there.',
  id: { resolve: (file) => encodeNestedId(file.vector_store_id, file.id) },
  isTypeOf: (value) => objectKind(value) === 'vector_store.file',
  loadManyWithoutCache: (ids, context) => ids.map((id) => context.loaders.vectorStoreFile.load(id)),
  fields: (t) => ({
    openaiId: t.exposeString('id', { description: 'The id of the underlying file (file-...).' }),
    vectorStore: t.field({
      ...costs(price.perPage),
      type: VectorStoreRef,
      nullable: true,
      description: 'The store it is attached to; null when it could not be read.',
      resolve: (file, _args, context) => parentVectorStore(context, file.vector_store_id),
    }),
    status: t.field({
      type: VectorStoreFileStatus,
      description: 'Its processing state.',
      resolve: (file) => file.status,
    }),
    usageBytes: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'Storage it uses in the store; absent from some batch listings.',
      resolve: (file) => file.usage_bytes ?? null,
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When it was attached (not uploaded).',
      resolve: (file) => fromUnixSeconds(file.created_at),
    }),
    lastError: t.field({
      type: VectorStoreFileError,
      nullable: true,
      description: 'Why it failed; null unless `status` is FAILED.',
      resolve: (file) => file.last_error ?? null,
    }),
    attributes: t.field({
      type: 'JSONObject',
      nullable: true,
      description: 'Up to 16 key/value pairs that search `filters` can match.',
      resolve: (file) => file.attributes ?? null,
    }),
    chunkingStrategy: t.field({
      type: ChunkingStrategy,
      nullable: true,
      description: 'How it was cut into chunks; absent from some batch listings.',
      resolve: (file) => file.chunking_strategy ?? null,
    }),
    file: t.field({
      ...costs(price.perPage),
      type: FileRef,
      nullable: true,
      description:
        'The underlying file (filename, bytes). Batched: one upstream call serves a whole page of rows.',
      resolve: (file, _args, context) => context.loaders.file.load(file.id),
    }),
  }),
});

const FileContentPart = builder.objectRef<FileContent>('FileContentPart').implement({
  description: 'A part of the text OpenAI parsed out of a file for search.',
  fields: (t) => ({
    type: t.string({ description: 'The kind of part; `text`.', resolve: (part) => part.type ?? 'text' }),
    text: t.string({ description: 'The text.', resolve: (part) => part.text ?? '' }),
  }),
});

builder.objectField(VectorStoreFileRef, 'content', (t) =>
  t.connection({
    // One read of the parsed text, paged here: OpenAI answers it whole.
    ...costs(price.connection),
    type: FileContentPart,
    nullable: true,
    description:
      'The text OpenAI parsed out of the file for search, in parts. Null when it could not be read.',
    resolve: async (file, args, context) => {
      const { data } = await context.loaders.read(
        ['vectorStores.files.content', file.vector_store_id, file.id],
        (upstream) => upstream.fileContent(file.vector_store_id, file.id),
      );
      return resolveArrayConnection({ args, defaultSize: PAGE_SIZE.default, maxSize: PAGE_SIZE.max }, data);
    },
  }),
);

export const VectorStoreFileConnection = builder.connectionObject(
  {
    type: VectorStoreFileRef,
    name: 'VectorStoreFileConnection',
    description: 'A page of the files of a vector store or of a batch.',
    fields: (t) => ({
      totalCount: t.int({
        nullable: true,
        description: 'How many files the whole list has (with `filter` applied), from OpenAI file counts.',
        resolve: (connection) => (connection as { totalCount?: number }).totalCount ?? null,
      }),
    }),
  },
  { name: 'VectorStoreFileEdge', description: 'A vector store file in a page, with its cursor.' },
);

/**
 * A store's or a batch's file list, one upstream page of it, with the exact count of the whole
 * (filtered) list from the owner's file counts.
 */
export async function resolveFileList(
  args: ConnectionArgs & { order?: ListOrder | null; filter?: FileStatus | null },
  counts: FileCounts,
  source: {
    fetch(page: PageParams & { filter?: FileStatus | undefined }): Promise<Page<VectorStoreFile>>;
    prime?(files: readonly VectorStoreFile[]): void;
  },
) {
  const filter = args.filter ?? undefined;
  const connection = await connectionFromUpstream(args, args.order ?? 'desc', {
    supportsBefore: true,
    fetch: (page) => source.fetch({ ...page, filter }),
    ...(source.prime ? { prime: source.prime } : {}),
  });
  return { ...connection, totalCount: filter ? counts[filter] : counts.total };
}

builder.objectFields(VectorStoreRef, (t) => ({
  files: t.connection(
    {
      ...costs(price.connection),
      type: VectorStoreFileRef,
      nullable: true,
      description:
        'The files attached to this store, newest first by default. Null when this page could not be read; other stores keep theirs.',
      args: {
        order: t.arg({ type: SortOrder, defaultValue: 'desc', description: 'Order by attach time.' }),
        filter: t.arg({ type: VectorStoreFileStatus, description: 'Only files in this processing state.' }),
      },
      resolve: (store, args, context) =>
        resolveFileList(args, store.file_counts, {
          fetch: (page) =>
            context.loaders.read(['vectorStores.files.list', store.id, page], (upstream) =>
              upstream.listVectorStoreFiles(store.id, page),
            ),
          prime: primeWith(context.loaders.vectorStoreFile, (file) =>
            encodeNestedId(file.vector_store_id, file.id),
          ),
        }),
    },
    VectorStoreFileConnection,
  ),
  file: t.field({
    ...costs(price.lookup),
    type: VectorStoreFileRef,
    nullable: true,
    description: 'One file of this store; null when it is not attached. Batched per store.',
    args: {
      id: t.arg.id({
        required: true,
        description: 'A VectorStoreFile or File global id, or a raw file-... id.',
      }),
    },
    resolve: (store, args, context) => {
      const { fileId } = parseVectorStoreFileRef(String(args.id), 'id', store.id);
      return context.loaders.vectorStoreFile.load(encodeNestedId(store.id, fileId));
    },
  }),
}));
