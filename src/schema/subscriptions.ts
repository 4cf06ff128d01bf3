import { GraphQLError } from 'graphql';
import type { Context } from '../context.ts';
import type { LiveKind, LiveUpdate, TargetOf, Watched } from '../live/registry.ts';
import { builder } from './builder.ts';
import { FileBatchRef } from './file-batches/types.ts';
import {
  decodeGlobalId,
  InvalidIdError,
  parseFileBatchRef,
  parseVectorStoreFileRef,
  parseVectorStoreId,
  splitNestedId,
} from './ids.ts';
import { createLoaders, type Loaders } from './loaders.ts';
import { VectorStoreFileRef } from './vector-store-files/types.ts';
import { VectorStoreRef } from './vector-stores/types.ts';

export const DEFAULT_DEADLINE_SECONDS = 300;
export const MAX_DEADLINE_SECONDS = 1800;

builder.subscriptionType({
  description: [
    'Live processing status over server-sent events (GraphQL over SSE: POST or GET with `accept: text/event-stream`),',
    'or over WebSocket at the same path (graphql-ws, `graphql-transport-ws`).',
    'Each stream sends the current state at once, then each change of status, counts or usage, and ends after a final state.',
    'At its deadline it ends with a STILL_IN_PROGRESS error instead. However many clients watch an object, the gateway polls',
    'it once (per credential), backing off while nothing changes. Fields beyond the object itself (its store, its files)',
    'are read afresh for each event, once for all its subscribers. Each credential and token may hold a limited number of',
    'watches at once (TOO_MANY_SUBSCRIPTIONS past it).',
  ].join(' '),
});

/** The deadline argument as milliseconds, or BAD_USER_INPUT. */
function deadlineMs(seconds: number | null | undefined): number {
  const value = seconds ?? DEFAULT_DEADLINE_SECONDS;
  if (!Number.isInteger(value) || value < 1 || value > MAX_DEADLINE_SECONDS) {
    throw new GraphQLError(`deadlineSeconds must be between 1 and ${MAX_DEADLINE_SECONDS}; got ${value}.`, {
      extensions: { code: 'BAD_USER_INPUT', argument: 'deadlineSeconds' },
    });
  }
  return value * 1000;
}

/** A batch named without its store: only the global id says which store it belongs to. */
function parseFileBatchGlobalId(value: string): { vectorStoreId: string; batchId: string } {
  const shown = value.length > 60 ? `${value.slice(0, 60)}...` : value;
  if (value.startsWith('vsfb_')) {
    throw new InvalidIdError(
      `The raw file batch id '${shown}' does not say which vector store it belongs to: pass \`vectorStoreId\` too, or use the FileBatch's global id.`,
      'id',
    );
  }
  const { typename, id } = decodeGlobalId(value, 'id');
  if (typename !== 'FileBatch') throw new InvalidIdError(`'${shown}' is not a file batch id.`, 'id');
  const { vectorStoreId, ownId } = splitNestedId(id);
  return { vectorStoreId, batchId: ownId };
}

function watch<K extends LiveKind>(
  context: Context,
  target: TargetOf<K>,
  deadlineSeconds: number | null | undefined,
): AsyncIterable<LiveUpdate<Watched[K]>> {
  return context.live.watch(target, { deadlineMs: deadlineMs(deadlineSeconds) });
}

/**
 * The loaders of one polled state, shared by every subscriber it is pushed to (they all use one
 * credential, as the poller does): what is read beyond the object (its store, its files) is read
 * once per state, on the poller's upstream, not once per subscriber. A new state gets new ones,
 * so nested fields are read fresh.
 */
const loadersOfState = new WeakMap<object, Loaders>();

/**
 * One event's object, or the error that ends the stream. A subscription's context lives as long
 * as its stream; its loaders are swapped for the state's at each event.
 */
function deliver<T extends object>(update: LiveUpdate<T>, context: Context): T {
  if ('error' in update) throw update.error;
  let loaders = loadersOfState.get(update.value);
  if (!loaders) {
    loaders = createLoaders(update.upstream);
    loadersOfState.set(update.value, loaders);
  }
  context.loaders = loaders;
  return update.value;
}

const DEADLINE_DESCRIPTION = `Seconds to watch before the stream ends with a STILL_IN_PROGRESS error (1..${MAX_DEADLINE_SECONDS}).`;

builder.subscriptionFields((t) => ({
  fileBatch: t.field({
    type: FileBatchRef,
    description:
      'A file batch: pushed when its status or counts change; ends once it is COMPLETED, CANCELLED or FAILED. NOT_FOUND when it does not exist.',
    args: {
      id: t.arg.id({
        required: true,
        description: 'A FileBatch global id; a raw vsfb_... id only together with `vectorStoreId`.',
      }),
      vectorStoreId: t.arg.id({
        description: 'The store of the batch, needed when `id` is a raw vsfb_... id.',
      }),
      deadlineSeconds: t.arg.int({
        defaultValue: DEFAULT_DEADLINE_SECONDS,
        description: DEADLINE_DESCRIPTION,
      }),
    },
    subscribe: (_root, args, context) => {
      const id = String(args.id);
      const ref =
        args.vectorStoreId == null
          ? parseFileBatchGlobalId(id)
          : parseFileBatchRef(id, 'id', parseVectorStoreId(String(args.vectorStoreId), 'vectorStoreId'));
      return watch(context, { kind: 'fileBatch', ...ref }, args.deadlineSeconds);
    },
    resolve: (update, _args, context) => deliver(update, context),
  }),
  vectorStoreFile: t.field({
    type: VectorStoreFileRef,
    description:
      'A file of a vector store: pushed when its status or usage changes; ends once it is COMPLETED, FAILED or CANCELLED. NOT_FOUND when it is not attached.',
    args: {
      id: t.arg.id({
        required: true,
        description:
          'A VectorStoreFile global id; a File id (global or raw file-...) only together with `vectorStoreId`.',
      }),
      vectorStoreId: t.arg.id({
        description: 'The store, needed when `id` names a File rather than a VectorStoreFile.',
      }),
      deadlineSeconds: t.arg.int({
        defaultValue: DEFAULT_DEADLINE_SECONDS,
        description: DEADLINE_DESCRIPTION,
      }),
    },
    subscribe: (_root, args, context) => {
      const store =
        args.vectorStoreId == null
          ? undefined
          : parseVectorStoreId(String(args.vectorStoreId), 'vectorStoreId');
      const ref = parseVectorStoreFileRef(String(args.id), 'id', store);
      return watch(context, { kind: 'vectorStoreFile', ...ref }, args.deadlineSeconds);
    },
    resolve: (update, _args, context) => deliver(update, context),
  }),
  vectorStore: t.field({
    type: VectorStoreRef,
    description:
      'A vector store: pushed when its status, file counts or usage change; ends once none of its files is in progress. NOT_FOUND when it does not exist.',
    args: {
      id: t.arg.id({ required: true, description: 'A VectorStore global id, or a raw vs_... id.' }),
      deadlineSeconds: t.arg.int({
        defaultValue: DEFAULT_DEADLINE_SECONDS,
        description: DEADLINE_DESCRIPTION,
      }),
    },
    subscribe: (_root, args, context) =>
      watch(
        context,
        { kind: 'vectorStore', vectorStoreId: parseVectorStoreId(String(args.id), 'id') },
        args.deadlineSeconds,
      ),
    resolve: (update, _args, context) => deliver(update, context),
  }),
}));
