import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import { DateTimeResolver, JSONObjectResolver, SafeIntResolver } from 'graphql-scalars';
import { type FileUpload, GraphQLUpload } from 'graphql-upload-minimal';
import type { Context } from '../context.ts';
import { OPENAI_LIMITS } from '../upstream/index.ts';
import { costs, price } from './cost.ts';
import { decodeGlobalId, encodeGlobalId } from './ids.ts';

const PAGE = OPENAI_LIMITS.listPage;

export interface JsonObject {
  [key: string]: unknown;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSONObject: { Input: JsonObject; Output: JsonObject };
    SafeInt: { Input: number; Output: number };
    Upload: { Input: Promise<FileUpload>; Output: never };
  };
}>({
  plugins: [ErrorsPlugin, RelayPlugin],
  // Mutation results are `<Name>Result` unions of the `<Name>Payload` itself and the error types
  // the field lists; only those classes are caught, so faults stay errors and stay masked.
  errors: { directResult: true },
  // Non-null unless a field says otherwise, as the contract mostly is.
  defaultFieldNullability: false,
  relay: {
    cursorType: 'String',
    edgeCursorType: 'String',
    pageInfoCursorType: 'String',
    clientMutationId: 'omit',
    nodesOnConnection: { description: 'The nodes of the edges, for clients that need no cursors.' },
    edgesFieldOptions: { nullable: false, description: 'The edges of this page, in list order.' },
    nodeFieldOptions: { nullable: false, description: 'The item at the end of the edge.' },
    cursorFieldOptions: { description: 'The cursor of this item: its OpenAI object id.' },
    pageInfoFieldOptions: { description: 'Where this page sits in the whole list.' },
    nodeTypeOptions: { description: 'An object with a globally unique, refetchable id (Relay).' },
    pageInfoTypeOptions: { description: 'Relay pagination state of a connection.' },
    hasNextPageFieldOptions: { description: 'Whether items follow this page in list order.' },
    hasPreviousPageFieldOptions: { description: 'Whether items precede this page in list order.' },
    startCursorFieldOptions: { description: 'The cursor of the first edge, null for an empty page.' },
    endCursorFieldOptions: { description: 'The cursor of the last edge, null for an empty page.' },
    idFieldOptions: { description: 'Opaque global id; pass it to `node`, or to any id argument.' },
    nodeQueryOptions: {
      ...costs(price.lookup),
      description:
        'Fetches any object by its global id, or by its raw OpenAI id (vs_..., file-...). Null when it does not exist.',
      args: { id: { description: 'A global id, or a raw vector store or file id.' } },
    },
    nodesQueryOptions: {
      ...costs(price.nodes),
      description:
        'Fetches several objects by id at once, batched upstream; null for each that does not exist.',
      args: { ids: { description: 'Global ids, or raw vector store or file ids.' } },
    },
    firstArgOptions: {
      description: `Page size counted from the start (1..${PAGE.max}, default ${PAGE.default}).`,
    },
    lastArgOptions: { description: `Page size counted from the end (1..${PAGE.max}).` },
    afterArgOptions: { description: 'Return items after this cursor.' },
    beforeArgOptions: { description: 'Return items before this cursor.' },
    defaultConnectionTypeOptions: { description: 'A page of a list, with Relay cursors.' },
    defaultEdgeTypeOptions: { description: 'An item of a page, with its cursor.' },
    encodeGlobalID: (typename, id) => encodeGlobalId(typename, String(id)),
    decodeGlobalID: (globalId) => decodeGlobalId(globalId),
  },
});

builder.addScalarType('DateTime', DateTimeResolver, {
  description: 'An instant, as an ISO-8601 string in UTC (OpenAI sends unix seconds).',
});
builder.addScalarType('JSONObject', JSONObjectResolver, {
  description: 'A JSON object: metadata (string values) or attributes (string, number or boolean values).',
});
builder.addScalarType('SafeInt', SafeIntResolver, {
  description: 'An integer up to 2^53 - 1, for byte counts that outgrow 32 bits.',
});

builder.addScalarType('Upload', GraphQLUpload, {
  description:
    'A file of a GraphQL multipart request (github.com/jaydenseric/graphql-multipart-request-spec), streamed as it arrives.',
});

builder.queryType({ description: 'Read access to vector stores, their files and batches, and files.' });
builder.mutationType({
  description:
    'Changes to vector stores and their files. Expected failures (invalid input, not found, rate limited, upstream refused) are members of each `<Name>Result` union, with a message.',
});

export const SortOrder = builder.enumType('SortOrder', {
  description: 'Order of a list by creation time, as OpenAI orders it.',
  values: {
    ASC: { value: 'asc', description: 'Oldest first.' },
    DESC: { value: 'desc', description: 'Newest first (the default).' },
  } as const,
});

/** Upstream timestamps are unix seconds; GraphQL clients get dates. */
export function fromUnixSeconds(seconds: number): Date {
  return new Date(seconds * 1000);
}

export function fromOptionalUnixSeconds(seconds: number | null | undefined): Date | null {
  return seconds == null ? null : fromUnixSeconds(seconds);
}

/** OpenAI objects name their own kind in `object`, which is how a Node's concrete type is found. */
export function objectKind(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null && 'object' in value && typeof value.object === 'string'
    ? value.object
    : undefined;
}
