import { GraphQLError } from 'graphql';

/**
 * Global ids are opaque to clients but simple inside: base64url of `Type:openaiId`, where the
 * objects that only exist inside a store carry it too (`VectorStoreFile:vs_...:file-...`).
 * Every id argument also takes the raw OpenAI id, so ids pasted from the dashboard work.
 */
export type NodeTypename = 'VectorStore' | 'File' | 'VectorStoreFile' | 'FileBatch';

const RAW_ID_PATTERNS = {
  VectorStore: /^vs_[A-Za-z0-9]{1,64}$/,
  File: /^file-[A-Za-z0-9_-]{1,64}$/,
  FileBatch: /^vsfb_[A-Za-z0-9_]{1,80}$/,
} as const;

const NESTED_TYPES: ReadonlySet<NodeTypename> = new Set(['VectorStoreFile', 'FileBatch']);
const TYPENAMES: ReadonlySet<string> = new Set(['VectorStore', 'File', 'VectorStoreFile', 'FileBatch']);

export function encodeGlobalId(typename: string, id: string): string {
  return Buffer.from(`${typename}:${id}`, 'utf8').toString('base64url');
}

/** `id` of a store-scoped object is `vs_...:<own id>`. */
export function encodeNestedId(vectorStoreId: string, ownId: string): string {
  return `${vectorStoreId}:${ownId}`;
}

export class InvalidIdError extends GraphQLError {
  constructor(message: string, argument?: string) {
    super(message, { extensions: { code: 'INVALID_ID', ...(argument ? { argument } : {}) } });
  }
}

function shown(value: string): string {
  return value.length > 60 ? `${value.slice(0, 60)}...` : value;
}

/** Decodes a global or raw id into its type and OpenAI id, or throws INVALID_ID. */
export function decodeGlobalId(value: string, argument?: string): { typename: NodeTypename; id: string } {
  if (RAW_ID_PATTERNS.VectorStore.test(value)) return { typename: 'VectorStore', id: value };
  if (RAW_ID_PATTERNS.File.test(value)) return { typename: 'File', id: value };
  if (RAW_ID_PATTERNS.FileBatch.test(value)) {
    throw new InvalidIdError(
      `The raw file batch id '${shown(value)}' does not say which vector store it belongs to: use the FileBatch's global id, or VectorStore.fileBatch(id:).`,
      argument,
    );
  }
  const decoded = /^[A-Za-z0-9_-]{1,400}$/.test(value)
    ? Buffer.from(value, 'base64url').toString('utf8')
    : '';
  const separator = decoded.indexOf(':');
  const typename = decoded.slice(0, separator);
  const id = decoded.slice(separator + 1);
  if (separator > 0 && TYPENAMES.has(typename) && isWellFormed(typename as NodeTypename, id)) {
    return { typename: typename as NodeTypename, id };
  }
  throw new InvalidIdError(
    `'${shown(value)}' is not a valid id: expected a global id or a raw OpenAI id (vs_..., file-...).`,
    argument,
  );
}

function isWellFormed(typename: NodeTypename, id: string): boolean {
  if (!NESTED_TYPES.has(typename)) return RAW_ID_PATTERNS[typename as 'VectorStore' | 'File'].test(id);
  const [storeId = '', ownId = '', ...rest] = id.split(':');
  const ownPattern = typename === 'VectorStoreFile' ? RAW_ID_PATTERNS.File : RAW_ID_PATTERNS.FileBatch;
  return rest.length === 0 && RAW_ID_PATTERNS.VectorStore.test(storeId) && ownPattern.test(ownId);
}

export function splitNestedId(id: string): { vectorStoreId: string; ownId: string } {
  const [vectorStoreId = '', ownId = ''] = id.split(':');
  return { vectorStoreId, ownId };
}

function wrongKind(value: string, expected: string, argument: string): InvalidIdError {
  return new InvalidIdError(`'${shown(value)}' is not ${expected}.`, argument);
}

/** A vector store, named by its global id or its raw `vs_` id. */
export function parseVectorStoreId(value: string, argument: string): string {
  const { typename, id } = decodeGlobalId(value, argument);
  if (typename !== 'VectorStore') throw wrongKind(value, 'a vector store id', argument);
  return id;
}

/** A File, named by its global id, its raw `file-` id, or a VectorStoreFile id (which names a file). */
export function parseFileId(value: string, argument: string): string {
  const { typename, id } = decodeGlobalId(value, argument);
  if (typename === 'File') return id;
  if (typename === 'VectorStoreFile') return splitNestedId(id).ownId;
  throw wrongKind(value, 'a file id', argument);
}

/**
 * A file inside a store. Inside a known store a plain file id is enough; a VectorStoreFile global
 * id must then belong to that store, since its store is part of its identity.
 */
export function parseVectorStoreFileRef(
  value: string,
  argument: string,
  vectorStoreId?: string,
): { vectorStoreId: string; fileId: string } {
  const { typename, id } = decodeGlobalId(value, argument);
  if (typename === 'VectorStoreFile') {
    const nested = splitNestedId(id);
    if (vectorStoreId && nested.vectorStoreId !== vectorStoreId) {
      throw new InvalidIdError(`'${shown(value)}' is a file of another vector store.`, argument);
    }
    return { vectorStoreId: nested.vectorStoreId, fileId: nested.ownId };
  }
  if (typename === 'File' && vectorStoreId) return { vectorStoreId, fileId: id };
  throw wrongKind(value, 'a vector store file id', argument);
}

/** A file batch inside a store: its global id, or its raw `vsfb_` id when the store is known. */
export function parseFileBatchRef(
  value: string,
  argument: string,
  vectorStoreId: string,
): { vectorStoreId: string; batchId: string } {
  if (RAW_ID_PATTERNS.FileBatch.test(value)) return { vectorStoreId, batchId: value };
  const { typename, id } = decodeGlobalId(value, argument);
  if (typename !== 'FileBatch') throw wrongKind(value, 'a file batch id', argument);
  const nested = splitNestedId(id);
  if (nested.vectorStoreId !== vectorStoreId) {
    throw new InvalidIdError(`'${shown(value)}' is a batch of another vector store.`, argument);
  }
  return { vectorStoreId, batchId: nested.ownId };
}
