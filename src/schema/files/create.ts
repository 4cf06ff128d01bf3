import type { FileUpload } from 'graphql-upload-minimal';
import { createConcurrencyLimit } from '../../concurrency.ts';
import type { Context } from '../../context.ts';
import {
  checkDeclaredSizes,
  type FileRoute,
  receiveRouted,
  routeOf,
  undeclaredHint,
} from '../../uploads/declared.ts';
import { defaultUploadLimits, type UploadLimits } from '../../uploads/parse.ts';
import { discardUploads } from '../../uploads/receive.ts';
import {
  type FileObject,
  type FilePurpose,
  OPENAI_LIMITS,
  partedUploadCalls,
  UpstreamError,
} from '../../upstream/index.ts';
import { builder } from '../builder.ts';
import { costs, inputPrice, lengthOf } from '../cost.ts';
import {
  type ErrorContext,
  FileFailure,
  type FileFailureShape,
  fileFailure,
  guarded,
  InvalidInputError,
  inputPaths,
  resultOptions,
} from '../errors.ts';
import { validateCount } from '../validation.ts';
import { FileRef } from './types.ts';

/**
 * Files sent to OpenAI at once. The parts of one request arrive one after another, so this
 * mostly overlaps one file's upstream answer with the next file's bytes.
 */
const UPLOAD_CONCURRENCY = 3;
/** A file streamed to `POST /files`: its upload, a look for it should the answer be lost, its delete. */
const STREAMED_FILE_CALLS = 3;
const EXPIRY = OPENAI_LIMITS.fileExpirySeconds;

/** The purposes `POST /files` and `POST /uploads` take (see the emulator's uploads.ts on the latter). */
const FilePurposeEnum = builder.enumType('FilePurpose', {
  description: 'What a file is for, as OpenAI asks when it is created.',
  values: {
    ASSISTANTS: { value: 'assistants', description: 'Assistants and file search (vector stores).' },
    BATCH: { value: 'batch', description: 'Input of the Batch API; expires after 30 days by default.' },
    FINE_TUNE: { value: 'fine-tune', description: 'Fine-tuning data.' },
    VISION: { value: 'vision', description: 'Images for vision fine-tuning.' },
    USER_DATA: { value: 'user_data', description: 'Files of any kind, for any purpose.' },
    EVALS: { value: 'evals', description: 'Eval data sets.' },
  } as const satisfies Record<string, { value: FilePurpose; description: string }>,
});

const CreateFilesInput = builder.inputType('CreateFilesInput', {
  description: 'Files to create (GraphQL multipart request), each with the same purpose.',
  fields: (t) => ({
    files: t.field({
      type: ['Upload'],
      required: true,
      description: 'The files, sent to OpenAI as they arrive (at most the configured number per request).',
    }),
    sizes: t.field({
      type: ['SafeInt'],
      description:
        "The size in bytes of each file, in the order of `files` (a browser's `File.size`). With it, a file larger than the gateway streams to `POST /files` goes through OpenAI's Uploads API in parts, and a file over the limits is refused before any of it is sent; a file whose bytes differ from its size is refused, leaving nothing upstream. Without it, a file is held to the `POST /files` limit.",
    }),
    purpose: t.field({ type: FilePurposeEnum, required: true, description: 'What the files are for.' }),
    expiresAfterSeconds: t.int({
      description: `Seconds after their creation at which OpenAI deletes the files (${EXPIRY.min}..${EXPIRY.max}); by default only \`batch\` files expire (after 30 days).`,
    }),
  }),
});

interface CreateFilesShape {
  files: FileObject[];
  failures: FileFailureShape[];
}

const CreateFilesPayload = builder.objectRef<CreateFilesShape>('CreateFilesPayload').implement({
  description: 'The files created, and an answer for each file that did not make it.',
  fields: (t) => ({
    files: t.field({
      type: [FileRef],
      description: 'The files created, in input order.',
      resolve: (payload) => payload.files,
    }),
    failures: t.field({
      type: [FileFailure],
      description:
        'The files that were not created, and why. Empty when every file made it; none left anything upstream.',
      resolve: (payload) => payload.failures,
    }),
  }),
});

builder.mutationField('createFiles', (t) =>
  t.field({
    // Per file, by the way its declared size sends it: a streamed POST (see STREAMED_FILE_CALLS)
    // or a parted upload (partedUploadCalls); nothing for a file refused from its size alone.
    ...costs(
      inputPrice((input, context) => {
        const limits = uploadLimitsOf(context);
        const files = lengthOf(input.files);
        const checked = checkDeclaredSizes(declaredSizes(input.sizes), files);
        const sizes = 'sizes' in checked ? checked.sizes : [];
        let calls = 0;
        for (let index = 0; index < files; index++) {
          calls += routeCalls(routeOf(sizes[index], limits), limits);
        }
        return { calls, rows: files };
      }),
    ),
    type: CreateFilesPayload,
    description:
      "Creates OpenAI files of any purpose from a GraphQL multipart request. Each file is streamed to `POST /files`, or, when its declared size (`sizes`) is over the configured threshold, through OpenAI's Uploads API in parts. Each file gets its own answer: one that fails leaves nothing upstream and does not stop the others.",
    errors: resultOptions('createFiles'),
    args: {
      input: t.arg({ type: CreateFilesInput, required: true, description: 'What to create.' }),
    },
    resolve: (_root, { input }, context) => {
      const errors: ErrorContext = {
        paths: inputPaths({ purpose: 'input.purpose', expires_after: 'input.expiresAfterSeconds' }),
        notFound: { field: 'input', message: 'OpenAI has no such object.' },
      };
      return guarded(errors, async () => {
        let sizes: Array<number | undefined>;
        try {
          validateCount(input.files, 'input.files', { min: 1, max: context.uploadLimits.maxFiles }, 'files');
          const checked = checkDeclaredSizes(input.sizes, input.files.length);
          if (!('sizes' in checked)) {
            throw new InvalidInputError(
              checked.index === null ? 'input.sizes' : `input.sizes[${checked.index}]`,
              checked.message,
            );
          }
          sizes = checked.sizes;
          const expiry = input.expiresAfterSeconds;
          if (expiry != null && (expiry < EXPIRY.min || expiry > EXPIRY.max)) {
            throw new InvalidInputError(
              'input.expiresAfterSeconds',
              `Give ${EXPIRY.min} to ${EXPIRY.max} seconds.`,
            );
          }
        } catch (error) {
          discardUploads(input.files);
          throw error;
        }
        const outcomes = await createAll(context, input.files, sizes, {
          purpose: input.purpose,
          expiresAfterSeconds: input.expiresAfterSeconds ?? undefined,
        });
        const failures = outcomes.flatMap((outcome) => (outcome.failure ? [outcome.failure] : []));
        let created = outcomes.filter((outcome): outcome is Outcome & { file: FileObject } =>
          Boolean(outcome.file),
        );
        if (context.upstream.cancelled) {
          failures.push(...(await removeCreated(context, created)));
          created = [];
        }
        failures.sort((a, b) => a.index - b.index);
        return { files: created.map((outcome) => outcome.file), failures };
      });
    },
  }),
);

interface Outcome {
  index: number;
  filename: string | null;
  file?: FileObject;
  failure?: FileFailureShape;
}

/**
 * Sends every file, `UPLOAD_CONCURRENCY` at a time, each the way its declared size picks. Each
 * waits for its part before it takes a slot: parts arrive in the client's order, which need not
 * be the list's, and a slot held while waiting for a later part would stall the request.
 */
function createAll(
  context: Context,
  uploads: readonly Promise<FileUpload>[],
  sizes: ReadonlyArray<number | undefined>,
  options: { purpose: FilePurpose; expiresAfterSeconds: number | undefined },
): Promise<Outcome[]> {
  const slots = createConcurrencyLimit(UPLOAD_CONCURRENCY);
  const limits = context.uploadLimits;
  return Promise.all(
    uploads.map(async (upload, index): Promise<Outcome> => {
      const declared = sizes[index];
      const route = routeOf(declared, limits);
      const fail = (filename: string | null, reason: unknown): Outcome => {
        const failure = fileFailure({ index, filename, stage: 'UPLOAD' }, reason);
        const hint =
          declared === undefined && failure.code === 'FILE_TOO_LARGE' ? undeclaredHint(limits) : null;
        return {
          index,
          filename,
          failure: hint ? { ...failure, message: `${failure.message} ${hint}` } : failure,
        };
      };
      const file = await receiveRouted(upload, route, declared, limits, context.signal);
      if ('problem' in file) return fail(file.filename, file.problem);
      try {
        const created = await slots.run(() =>
          route.via === 'parts'
            ? context.upstream.uploadFileInParts(file, {
                ...options,
                bytes: route.bytes,
                partBytes: limits.partBytes,
              })
            : context.upstream.uploadFile(file, options),
        );
        context.loaders.file.prime(created.id, created);
        return { index, filename: file.filename, file: created };
      } catch (error) {
        return fail(file.filename, error);
      }
    }),
  );
}

/**
 * Deletes the files created for a client that went away (it never learns their ids), so a
 * cancelled request leaves nothing behind; this outlives the request.
 */
function removeCreated(
  context: Context,
  created: ReadonlyArray<Outcome & { file: FileObject }>,
): Promise<FileFailureShape[]> {
  const cancelled = new UpstreamError(
    'REQUEST_CANCELLED',
    'The request was cancelled before it was answered.',
  );
  return Promise.all(
    created.map(async ({ index, filename, file }) => {
      const failure = fileFailure({ index, filename, stage: 'UPLOAD' }, cancelled);
      try {
        await context.upstream.deleteFile(file.id, { outlivesRequest: true });
        return { ...failure, message: `${failure.message} The file was deleted.` };
      } catch {
        return {
          ...failure,
          fileId: file.id,
          message: `${failure.message} The file ${file.id} could not be deleted; delete it.`,
        };
      }
    }),
  );
}

/** The most upstream calls one file may take the way it goes. */
function routeCalls(route: FileRoute, limits: UploadLimits): number {
  switch (route.via) {
    case 'none':
      return 0;
    case 'files':
      return STREAMED_FILE_CALLS;
    case 'parts':
      // The File's delete for a client that went away replaces the cancel (it has no File then).
      return partedUploadCalls(route.bytes, limits.partBytes);
  }
}

/** The sizes as the price sees them: a list of numbers, or none. */
function declaredSizes(value: unknown): number[] | undefined {
  return Array.isArray(value) && value.every((size) => typeof size === 'number') ? value : undefined;
}

/** The operation's upload limits; the defaults when priced without a context. */
function uploadLimitsOf(context: unknown): UploadLimits {
  return (context as Partial<Context> | null)?.uploadLimits ?? defaultUploadLimits;
}
