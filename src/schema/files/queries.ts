import { builder, SortOrder } from '../builder.ts';
import { connectionFromUpstream } from '../connections.ts';
import { costs, price } from '../cost.ts';
import { parseFileId } from '../ids.ts';
import { primeWith } from '../loading.ts';
import { FileRef } from './types.ts';

export const FileConnection = builder.connectionObject(
  { type: FileRef, name: 'FileConnection', description: 'A page of files.' },
  { name: 'FileEdge', description: 'A file in a page, with its cursor.' },
);

builder.queryFields((t) => ({
  file: t.field({
    ...costs(price.lookup),
    type: FileRef,
    nullable: true,
    description: 'An OpenAI file by its global or raw (file-...) id; null when it does not exist.',
    args: { id: t.arg.id({ required: true, description: 'A File global id or a raw file-... id.' }) },
    resolve: (_root, args, context) => context.loaders.file.load(parseFileId(String(args.id), 'id')),
  }),
  files: t.connection(
    {
      ...costs(price.connection),
      type: FileRef,
      nullable: true,
      description:
        'The files of the project, newest first by default. OpenAI cannot page this list backwards from a cursor, so `last`/`before` read it in the opposite order.',
      args: {
        order: t.arg({ type: SortOrder, defaultValue: 'desc', description: 'Order by creation time.' }),
        purpose: t.arg.string({ description: 'Only files with this purpose, e.g. `assistants`.' }),
      },
      resolve: (_root, args, context) =>
        connectionFromUpstream(args, args.order ?? 'desc', {
          supportsBefore: false,
          fetch: ({ limit, order, after }) =>
            context.loaders.read(['files.list', limit, order, after, args.purpose], (upstream) =>
              upstream.listFiles({ limit, order, after, purpose: args.purpose ?? undefined }),
            ),
          prime: primeWith(context.loaders.file, (file) => file.id),
        }),
    },
    FileConnection,
  ),
}));
