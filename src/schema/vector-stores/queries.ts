import { builder, SortOrder } from '../builder.ts';
import { connectionFromUpstream } from '../connections.ts';
import { costs, price } from '../cost.ts';
import { parseVectorStoreId } from '../ids.ts';
import { primeWith } from '../loading.ts';
import { VectorStoreRef } from './types.ts';

export const VectorStoreConnection = builder.connectionObject(
  { type: VectorStoreRef, name: 'VectorStoreConnection', description: 'A page of vector stores.' },
  { name: 'VectorStoreEdge', description: 'A vector store in a page, with its cursor.' },
);

builder.queryFields((t) => ({
  vectorStore: t.field({
    ...costs(price.lookup),
    type: VectorStoreRef,
    nullable: true,
    description: 'A vector store by its global or raw (vs_...) id; null when it does not exist.',
    args: { id: t.arg.id({ required: true, description: 'A VectorStore global id or a raw vs_... id.' }) },
    resolve: (_root, args, context) =>
      context.loaders.vectorStore.load(parseVectorStoreId(String(args.id), 'id')),
  }),
  vectorStores: t.connection(
    {
      ...costs(price.connection),
      type: VectorStoreRef,
      nullable: true,
      description:
        'The vector stores of the project, newest first by default. Null when OpenAI could not be read (the error says why).',
      args: {
        order: t.arg({ type: SortOrder, defaultValue: 'desc', description: 'Order by creation time.' }),
      },
      resolve: (_root, args, context) =>
        connectionFromUpstream(args, args.order ?? 'desc', {
          supportsBefore: true,
          fetch: (page) =>
            context.loaders.read(['vectorStores.list', page], (upstream) => upstream.listVectorStores(page)),
          prime: primeWith(context.loaders.vectorStore, (store) => store.id),
        }),
    },
    VectorStoreConnection,
  ),
}));
