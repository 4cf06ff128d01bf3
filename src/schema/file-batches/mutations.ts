import type { FileBatch } from '../../upstream/index.ts';
import { builder } from '../builder.ts';
import { costs, price } from '../cost.ts';
import { type ErrorContext, guarded, inputPaths, resultOptions } from '../errors.ts';
import { encodeNestedId, parseFileBatchRef, parseVectorStoreId } from '../ids.ts';
import { VECTOR_STORE_ID_INPUT } from '../vector-stores/types.ts';
import { FileBatchRef } from './types.ts';

const CancelFileBatchInput = builder.inputType('CancelFileBatchInput', {
  description: 'A file batch to cancel.',
  fields: (t) => ({
    vectorStoreId: t.id({
      required: true,
      description: VECTOR_STORE_ID_INPUT,
    }),
    batchId: t.id({ required: true, description: 'The batch: a FileBatch global id, or a raw vsfb_... id.' }),
  }),
});

const CancelFileBatchPayload = builder
  .objectRef<{ fileBatch: FileBatch }>('CancelFileBatchPayload')
  .implement({
    description: 'The batch after the cancel was asked for.',
    fields: (t) => ({
      fileBatch: t.field({
        type: FileBatchRef,
        nullable: true,
        description: 'The batch; its files still in progress are cancelled as soon as OpenAI can.',
        resolve: (payload) => payload.fileBatch,
      }),
    }),
  });

builder.mutationField('cancelFileBatch', (t) =>
  t.field({
    ...costs(price.mutation),
    type: CancelFileBatchPayload,
    description: 'Cancels the processing of a file batch; files already processed stay.',
    errors: resultOptions('cancelFileBatch'),
    args: { input: t.arg({ type: CancelFileBatchInput, required: true, description: 'The batch.' }) },
    resolve: (_root, { input }, context) => {
      const errors: ErrorContext = {
        paths: inputPaths({ vector_store_id: 'input.vectorStoreId', batch_id: 'input.batchId' }),
        notFound: { field: 'input.batchId', message: 'No such file batch in that vector store.' },
      };
      return guarded(errors, async () => {
        const vectorStoreId = parseVectorStoreId(String(input.vectorStoreId), 'input.vectorStoreId');
        const { batchId } = parseFileBatchRef(String(input.batchId), 'input.batchId', vectorStoreId);
        const fileBatch = await context.upstream.cancelFileBatch(vectorStoreId, batchId);
        const key = encodeNestedId(vectorStoreId, batchId);
        context.loaders.fileBatch.clear(key);
        context.loaders.fileBatch.prime(key, fileBatch);
        // Its files and the store's counts changed too.
        context.loaders.vectorStore.clear(vectorStoreId);
        return { fileBatch };
      });
    },
  }),
);
