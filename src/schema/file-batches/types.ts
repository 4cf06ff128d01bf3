import type { FileBatch } from '../../upstream/index.ts';
import { builder, fromUnixSeconds, objectKind, SortOrder } from '../builder.ts';
import { costs, price } from '../cost.ts';
import { encodeNestedId, parseFileBatchRef } from '../ids.ts';
import {
  resolveFileList,
  VectorStoreFileConnection,
  VectorStoreFileRef,
  VectorStoreFileStatus,
} from '../vector-store-files/types.ts';
import { FileCounts, parentVectorStore, VectorStoreRef } from '../vector-stores/types.ts';

export const FileBatchRef = builder.objectRef<FileBatch>('FileBatch');

export const FileBatchStatus = builder.enumType('FileBatchStatus', {
  description: 'Where a batch of attached files is in its processing.',
  values: {
    IN_PROGRESS: { value: 'in_progress', description: 'Some of its files are still being processed.' },
    CANCELLING: { value: 'cancelling', description: 'A cancel was asked for and is under way.' },
    COMPLETED: { value: 'completed', description: 'Every file reached a final state.' },
    CANCELLED: { value: 'cancelled', description: 'Cancelled; unprocessed files were cancelled.' },
    FAILED: { value: 'failed', description: 'The batch as a whole failed.' },
  } as const,
});

builder.node(FileBatchRef, {
  description: 'A batch of files attached to a vector store together, processed as one.',
  id: { resolve: (batch) => encodeNestedId(batch.vector_store_id, batch.id) },
  // The wire says `vector_store.file_batch`; the spec and the SDK type say `files_batch`.
  isTypeOf: (value) =>
    ['vector_store.file_batch', 'vector_store.files_batch'].includes(objectKind(value) ?? ''),
  loadManyWithoutCache: (ids, context) => ids.map((id) => context.loaders.fileBatch.load(id)),
  fields: (t) => ({
    openaiId: t.exposeString('id', { description: 'The OpenAI batch id (vsfb_...).' }),
    vectorStore: t.field({
      ...costs(price.perPage),
      type: VectorStoreRef,
      nullable: true,
      description: 'The store the files were attached to; null when it could not be read.',
      resolve: (batch, _args, context) => parentVectorStore(context, batch.vector_store_id),
    }),
    status: t.field({
      type: FileBatchStatus,
      description: 'Its processing state.',
      resolve: (batch) => batch.status as FileBatch['status'] | 'cancelling',
    }),
    fileCounts: t.field({
      type: FileCounts,
      description: 'Its files by processing state.',
      resolve: (batch) => batch.file_counts,
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When it was created.',
      resolve: (batch) => fromUnixSeconds(batch.created_at),
    }),
    files: t.connection(
      {
        ...costs(price.connection),
        type: VectorStoreFileRef,
        nullable: true,
        description:
          'The files of this batch, newest first by default. Null when the page could not be read.',
        args: {
          order: t.arg({ type: SortOrder, defaultValue: 'desc', description: 'Order by attach time.' }),
          filter: t.arg({ type: VectorStoreFileStatus, description: 'Only files in this processing state.' }),
        },
        // Batch listings may carry reduced objects, so they do not prime the file loader.
        resolve: (batch, args, context) =>
          resolveFileList(args, batch.file_counts, {
            fetch: (page) =>
              context.loaders.read(['vectorStores.fileBatches.listFiles', batch.id, page], (upstream) =>
                upstream.listFileBatchFiles(batch.vector_store_id, batch.id, page),
              ),
          }),
      },
      VectorStoreFileConnection,
    ),
  }),
});

builder.objectField(VectorStoreRef, 'fileBatch', (t) =>
  t.field({
    ...costs(price.lookup),
    type: FileBatchRef,
    nullable: true,
    description: 'One file batch of this store; null when it does not exist.',
    args: { id: t.arg.id({ required: true, description: 'A FileBatch global id, or a raw vsfb_... id.' }) },
    resolve: (store, args, context) => {
      const { batchId } = parseFileBatchRef(String(args.id), 'id', store.id);
      return context.loaders.fileBatch.load(encodeNestedId(store.id, batchId));
    },
  }),
);
