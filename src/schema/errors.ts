import { UploadProblem } from '../uploads/problems.ts';
import { UploadSizeMismatch, UpstreamError, type UpstreamErrorCode } from '../upstream/index.ts';
import { builder } from './builder.ts';
import { encodeGlobalId, InvalidIdError } from './ids.ts';

/**
 * Expected failures of mutations, as data: each mutation returns a `<Name>Result` union of its
 * payload and these types. The errors plugin catches only these classes, never `Error` itself, so
 * a fault stays a GraphQL error that yoga masks.
 */

/** Input refused before any upstream call, or refused by OpenAI naming one of its parameters. */
export class InvalidInputError extends Error {
  constructor(
    /** The input field, as a path from the argument: `input.metadata.lang`, `input.fileIds[3]`. */
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

export class NotFoundError extends Error {
  constructor(
    /** The input field naming the missing object. */
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class RateLimitedError extends Error {
  constructor(
    message: string,
    readonly retryAfter: number | null,
  ) {
    super(message);
    this.name = 'RateLimitedError';
  }
}

/** `input.fileIds[3].x` as segments: ["input", "fileIds", "3", "x"]. */
export function pathSegments(field: string): string[] {
  return field.split(/[.[\]]+/).filter((segment) => segment !== '');
}

const MutationError = builder.interfaceRef<Error>('MutationError').implement({
  description: 'An expected failure of a mutation, returned as data.',
  fields: (t) => ({
    message: t.exposeString('message', {
      description: "What went wrong, in the gateway's words (never OpenAI's text).",
    }),
  }),
});

builder.objectType(InvalidInputError, {
  name: 'InvalidInputError',
  description: 'The input breaks a rule; nothing was changed.',
  interfaces: [MutationError],
  fields: (t) => ({
    field: t.exposeString('field', {
      description: 'The offending input field, e.g. `input.metadata.lang` or `input.fileIds[3]`.',
    }),
    path: t.stringList({
      description: 'The same field as path segments, e.g. `["input", "fileIds", "3"]`.',
      resolve: (error) => pathSegments(error.field),
    }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'An object the input names does not exist (or is not visible to this credential).',
  interfaces: [MutationError],
  fields: (t) => ({
    field: t.exposeString('field', {
      description: 'The input field naming the missing object, e.g. `input.vectorStoreId`.',
    }),
    path: t.stringList({
      description: 'The same field as path segments.',
      resolve: (error) => pathSegments(error.field),
    }),
  }),
});

builder.objectType(RateLimitedError, {
  name: 'RateLimitedError',
  description: "OpenAI's rate limit was reached; nothing was changed by the refused call.",
  interfaces: [MutationError],
  fields: (t) => ({
    retryAfter: t.int({
      nullable: true,
      description:
        "Seconds to wait before trying again, when known: OpenAI's Retry-After, or when the store's attach writes of the minute run out.",
      resolve: (error) => error.retryAfter,
    }),
  }),
});

const UPSTREAM_ERROR_CODES: Record<UpstreamErrorCode, string> = {
  NOT_FOUND: 'OpenAI has no such object.',
  RATE_LIMITED: "OpenAI's rate limit was reached.",
  UPSTREAM_TIMEOUT: 'OpenAI did not answer in time; a write may or may not have been applied.',
  UPSTREAM_UNAVAILABLE: 'OpenAI failed or could not be reached; a write may or may not have been applied.',
  UPSTREAM_AUTH_FAILED: 'OpenAI refused the credential.',
  UPSTREAM_REJECTED: 'OpenAI refused the request.',
  REQUEST_CANCELLED: 'The request was cancelled (the client went away or its deadline passed).',
  PAYLOAD_TOO_LARGE: 'OpenAI refused the request as too large.',
  OVER_BUDGET: "The operation's upstream-call estimate was spent before this call; it was not made.",
};

const UpstreamErrorCodeEnum = builder.enumType('UpstreamErrorCode', {
  description: 'Why a call to OpenAI failed.',
  values: Object.fromEntries(
    Object.entries(UPSTREAM_ERROR_CODES).map(([code, description]) => [code, { description }]),
  ) as Record<UpstreamErrorCode, { description: string }>,
});

builder.objectType(UpstreamError, {
  name: 'UpstreamError',
  description: 'OpenAI refused or failed the call. For TIMEOUT and UNAVAILABLE, a write may have happened.',
  interfaces: [MutationError],
  fields: (t) => ({
    code: t.field({
      type: UpstreamErrorCodeEnum,
      description: 'What kind of failure it was.',
      resolve: (error) => error.code,
    }),
    upstreamRequestId: t.string({
      nullable: true,
      description: "OpenAI's request id, for their support.",
      resolve: (error) => error.requestId,
    }),
  }),
});

/** The classes the errors plugin turns into union members; every mutation lists all four. */
export const MUTATION_ERROR_TYPES = [InvalidInputError, NotFoundError, RateLimitedError, UpstreamError];

export function resultOptions(mutationName: string) {
  const name = mutationName.charAt(0).toUpperCase() + mutationName.slice(1);
  return {
    types: MUTATION_ERROR_TYPES,
    union: {
      name: `${name}Result`,
      description: `What \`${mutationName}\` returns: its \`${name}Payload\`, or the expected failure that stopped it.`,
    },
  };
}

/** Maps OpenAI's name for a refused parameter (`expires_after.days`) to the input field path. */
export type InputPaths = (param: string) => string | null;

const PARAM = /^[a-z_]+(\[\d+\])?(\.[a-z0-9_]+(\[\d+\])?)*$/;

/**
 * `heads` maps the first segment of OpenAI's `param` to an input field; the rest is camelCased.
 * `index` maps a position in what was sent (a deduplicated, split id list) back to the input's.
 */
export function inputPaths(
  heads: Record<string, string>,
  index: (position: number) => number | null = (position) => position,
): InputPaths {
  return (param) => {
    if (!PARAM.test(param)) return null;
    const [head = '', ...rest] = param.split('.');
    const match = /^([a-z_]+)(?:\[(\d+)\])?$/.exec(head);
    const field = match?.[1] ? heads[match[1]] : undefined;
    if (!match || !field) return null;
    let path = field;
    if (match[2] !== undefined) {
      const position = index(Number(match[2]));
      if (position === null) return null;
      path += `[${position}]`;
    }
    for (const segment of rest)
      path += `.${segment.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())}`;
    return path;
  };
}

export interface ErrorContext {
  paths: InputPaths;
  /** The input field a NOT_FOUND without a usable `param` is about. */
  notFound: { field: string; message: string };
}

/**
 * Upstream failures and id-format errors in the shape the union expects. Anything else is left
 * alone, so unexpected errors are not swallowed.
 */
export function toMutationError(error: unknown, context: ErrorContext): unknown {
  if (error instanceof InvalidIdError) {
    const argument = error.extensions.argument;
    return new InvalidInputError(typeof argument === 'string' ? argument : 'input', error.message);
  }
  if (!(error instanceof UpstreamError)) return error;
  const field = error.param ? context.paths(error.param) : null;
  switch (error.code) {
    case 'NOT_FOUND':
      return field
        ? new NotFoundError(field, `Nothing exists for \`${field}\`.`)
        : new NotFoundError(context.notFound.field, context.notFound.message);
    case 'RATE_LIMITED':
      return new RateLimitedError(error.message, error.retryAfterSeconds);
    case 'UPSTREAM_REJECTED':
      return field ? new InvalidInputError(field, `OpenAI refused the value of \`${field}\`.`) : error;
    default:
      return error;
  }
}

/** Runs a mutation's body, reporting expected failures as members of its result union. */
export async function guarded<T>(context: ErrorContext, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw toMutationError(error, context);
  }
}

// Per-file outcomes: a mutation over many files answers for each one, and one failure does not
// stop the others.

export type FileStage = 'UPLOAD' | 'ATTACH' | 'DETACH' | 'DELETE';

const FILE_FAILURE_CODES = {
  FILE_TOO_LARGE: 'The file is larger than the upload limit; nothing of it was stored.',
  UPLOAD_REUSED: 'The same upload was given more than once; only its first use is uploaded.',
  UPLOAD_INCOMPLETE: 'The request did not carry this file completely.',
  UPLOAD_SIZE_MISMATCH: 'The file is not the size declared for it; nothing of it was stored.',
  NOT_FOUND: 'No such file (for a removal: the file is not in this store).',
  RATE_LIMITED: "OpenAI's rate limit was reached; see `retryAfter`.",
  UPSTREAM_TIMEOUT: 'OpenAI did not answer in time.',
  UPSTREAM_UNAVAILABLE: 'OpenAI failed or could not be reached.',
  UPSTREAM_AUTH_FAILED: 'OpenAI refused the credential.',
  UPSTREAM_REJECTED: 'OpenAI refused the request for this file.',
  REQUEST_CANCELLED: 'The request was cancelled before this file was done.',
  OVER_BUDGET: "The operation's upstream-call estimate was spent before this file's call was made.",
  INTERNAL_ERROR: 'The gateway failed unexpectedly while handling this file.',
} as const;

export type FileFailureCode = keyof typeof FILE_FAILURE_CODES;

/** A reason a file failed that the gateway found itself, not OpenAI. */
export class FileProblem extends Error {
  constructor(
    readonly code: FileFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'FileProblem';
  }
}

export interface FileFailureShape {
  index: number;
  filename: string | null;
  /** The raw OpenAI file id, when there is one. */
  fileId: string | null;
  stage: FileStage;
  code: FileFailureCode;
  message: string;
  retryAfter: number | null;
}

export function fileFailure(
  where: { index: number; stage: FileStage; filename?: string | null; fileId?: string | null },
  error: unknown,
): FileFailureShape {
  const base = {
    index: where.index,
    stage: where.stage,
    filename: where.filename ?? null,
    fileId: where.fileId ?? null,
    retryAfter: null,
  };
  const subject = where.filename != null ? `"${where.filename}"` : (where.fileId ?? `File ${where.index}`);
  const failed = `${subject} ${STAGE_FAILED[where.stage]}`;
  if (error instanceof FileProblem || error instanceof UploadProblem || error instanceof UploadSizeMismatch)
    return { ...base, code: error.code, message: `${failed}: ${error.message}` };
  if (!(error instanceof UpstreamError)) {
    return { ...base, code: 'INTERNAL_ERROR', message: `${failed}: ${FILE_FAILURE_CODES.INTERNAL_ERROR}` };
  }
  const code: FileFailureCode = error.code === 'PAYLOAD_TOO_LARGE' ? 'FILE_TOO_LARGE' : error.code;
  return { ...base, code, message: `${failed}: ${error.message}`, retryAfter: error.retryAfterSeconds };
}

const STAGE_FAILED: Record<FileStage, string> = {
  UPLOAD: 'was not uploaded',
  ATTACH: 'was not attached',
  DETACH: 'was not removed from the store',
  DELETE: 'was not deleted',
};

const FileStageEnum = builder.enumType('FileStage', {
  description: 'The step of a mutation at which a file failed.',
  values: {
    UPLOAD: { description: 'Sending the file to OpenAI (`POST /files`, or the Uploads API in parts).' },
    ATTACH: { description: 'Attaching the file to the vector store.' },
    DETACH: { description: 'Removing the file from the vector store.' },
    DELETE: { description: 'Deleting the file itself.' },
  } as const,
});

const FileFailureCodeEnum = builder.enumType('FileFailureCode', {
  description: 'Why one file of a mutation failed.',
  values: Object.fromEntries(
    Object.entries(FILE_FAILURE_CODES).map(([code, description]) => [code, { description }]),
  ) as Record<FileFailureCode, { description: string }>,
});

export const FileFailure = builder.objectRef<FileFailureShape>('FileFailure').implement({
  description:
    'One file a mutation could not handle, and why. The other files went on; an upload that failed left nothing behind.',
  fields: (t) => ({
    index: t.exposeInt('index', {
      description:
        "Its position in the input list (`files` or `fileIds`); for deleteVectorStore, in the store's file list; for deleteOrphanedFiles, among the orphans of the call.",
    }),
    filename: t.exposeString('filename', {
      nullable: true,
      description: 'For an upload, the name the client gave the file.',
    }),
    fileId: t.id({
      nullable: true,
      description: "The File's global id, when it has one.",
      resolve: (failure) => (failure.fileId ? encodeGlobalId('File', failure.fileId) : null),
    }),
    openaiFileId: t.exposeString('fileId', {
      nullable: true,
      description: 'The raw OpenAI file id (file-...), when it has one.',
    }),
    stage: t.field({ type: FileStageEnum, description: 'Where it failed.', resolve: (f) => f.stage }),
    code: t.field({ type: FileFailureCodeEnum, description: 'Why it failed.', resolve: (f) => f.code }),
    message: t.exposeString('message', { description: 'What went wrong, naming the file.' }),
    retryAfter: t.int({
      nullable: true,
      description: 'For RATE_LIMITED: seconds to wait before trying again.',
      resolve: (failure) => failure.retryAfter,
    }),
  }),
});
