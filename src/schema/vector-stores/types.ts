import type { Context } from '../../context.ts';
import type { FileCounts as FileCountsShape, VectorStore } from '../../upstream/index.ts';
import { builder, fromOptionalUnixSeconds, fromUnixSeconds, objectKind } from '../builder.ts';

export const VectorStoreRef = builder.objectRef<VectorStore>('VectorStore');

/** How every input names a store. */
export const VECTOR_STORE_ID_INPUT = 'The store: a VectorStore global id or a raw vs_... id.';

/**
 * The store a file or a batch lives in. Usually already loaded by the query that reached the
 * child; a store deleted meanwhile fails this field alone.
 */
export async function parentVectorStore(context: Context, vectorStoreId: string): Promise<VectorStore> {
  const store = await context.loaders.vectorStore.load(vectorStoreId);
  if (!store) throw new Error(`Vector store ${vectorStoreId} no longer exists.`);
  return store;
}

export const VectorStoreStatus = builder.enumType('VectorStoreStatus', {
  description: 'Whether a vector store is ready for search.',
  values: {
    EXPIRED: { value: 'expired', description: 'Past its expiry: it can no longer be searched.' },
    IN_PROGRESS: { value: 'in_progress', description: 'Some files are still being processed.' },
    COMPLETED: { value: 'completed', description: 'Every file is processed; the store is ready.' },
  } as const,
});

export const FileCounts = builder.objectRef<FileCountsShape>('FileCounts').implement({
  description: 'How many files are in each processing state.',
  fields: (t) => ({
    inProgress: t.exposeInt('in_progress', { description: 'Files still being processed.' }),
    completed: t.exposeInt('completed', { description: 'Files processed and searchable.' }),
    failed: t.exposeInt('failed', { description: 'Files that could not be processed.' }),
    cancelled: t.exposeInt('cancelled', { description: 'Files whose processing was cancelled.' }),
    total: t.exposeInt('total', { description: 'All files.' }),
  }),
});

export const ExpirationPolicy = builder
  .objectRef<{ anchor: string; days: number }>('ExpirationPolicy')
  .implement({
    description: 'When a vector store expires: a number of days after its anchor timestamp.',
    fields: (t) => ({
      anchor: t.exposeString('anchor', {
        description: 'The timestamp counted from; OpenAI supports `last_active_at`.',
      }),
      days: t.exposeInt('days', { description: 'Days after the anchor (1..365).' }),
    }),
  });

builder.node(VectorStoreRef, {
  description: 'A vector store: files chunked and embedded for `file_search`.',
  id: { resolve: (store) => store.id },
  isTypeOf: (value) => objectKind(value) === 'vector_store',
  loadManyWithoutCache: (ids, context) => ids.map((id) => context.loaders.vectorStore.load(id)),
  fields: (t) => ({
    openaiId: t.exposeString('id', { description: 'The OpenAI vector store id (vs_...).' }),
    name: t.string({
      nullable: true,
      description: 'Its name; null when none was given.',
      resolve: (store) => store.name ?? null,
    }),
    description: t.string({
      nullable: true,
      description: 'Its description; null when none was given.',
      resolve: (store) => store.description ?? null,
    }),
    status: t.field({
      type: VectorStoreStatus,
      description: 'Whether it is ready.',
      resolve: (store) => store.status,
    }),
    usageBytes: t.field({
      type: 'SafeInt',
      description: 'Storage it uses, in bytes.',
      resolve: (store) => store.usage_bytes,
    }),
    fileCounts: t.field({
      type: FileCounts,
      description: 'Its files by processing state.',
      resolve: (store) => store.file_counts,
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When it was created.',
      resolve: (store) => fromUnixSeconds(store.created_at),
    }),
    lastActiveAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it was last used; expiry counts from here.',
      resolve: (store) => fromOptionalUnixSeconds(store.last_active_at),
    }),
    expiresAfter: t.field({
      type: ExpirationPolicy,
      nullable: true,
      description: 'Its expiration policy; null when it never expires.',
      resolve: (store) => store.expires_after ?? null,
    }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it expires; null when it never does.',
      resolve: (store) => fromOptionalUnixSeconds(store.expires_at),
    }),
    metadata: t.field({
      type: 'JSONObject',
      description: 'Up to 16 string key/value pairs set by its owner.',
      resolve: (store) => store.metadata ?? {},
    }),
  }),
});
