import type OpenAI from 'openai';
import type { Context } from '../../context.ts';
import type { VectorStoreFile } from '../../upstream/index.ts';
import { builder } from '../builder.ts';
import type { ChunkingParam } from '../chunking.ts';
import { costs, inputPrice } from '../cost.ts';
import {
  type ErrorContext,
  type FileFailureShape,
  FileProblem,
  fileFailure,
  guarded,
  InvalidInputError,
  inputPaths,
  NotFoundError,
  resultOptions,
} from '../errors.ts';
import {
  parseWaitSeconds,
  WAIT_SECONDS_DESCRIPTION,
  waitCalls,
  waitForBatches,
} from '../file-batches/wait.ts';
import { fileReads } from '../files/loaders.ts';
import { parseVectorStoreId } from '../ids.ts';
import { validateExpiresAfter, validateMetadata } from '../validation.ts';
import {
  type AttachPayloadShape,
  type AttachSettings,
  attachBatches,
  attachCalls,
  attachFiles,
  attachPayload,
  forgetStore,
  MAX_FILES_PER_BATCH,
} from '../vector-store-files/attach.ts';
import { readWholeList, wholeListCalls } from '../vector-store-files/whole-list.ts';
import { ExpirationPolicyInput } from './mutations.ts';

/**
 * The source store is read whole before anything is created, and the estimate is priced on the
 * most files it may hold: by default this many, which leaves room in the operation's call limit
 * for `waitSeconds`; a caller with a larger store raises `maxFiles`, up to one batch.
 */
const DEFAULT_MAX_FILES = 1000;
const MAX_FILES = MAX_FILES_PER_BATCH;

const RecreateVectorStoreInput = builder.inputType('RecreateVectorStoreInput', {
  description:
    "A new vector store holding another store's files, each with its attributes and chunking; fields left out are copied from the source.",
  fields: (t) => ({
    from: t.id({
      required: true,
      description: 'The store to copy (an expired one too): a VectorStore global id or a raw vs_... id.',
    }),
    name: t.string({ description: "The new store's name; the source's by default." }),
    description: t.string({ description: "What it holds; the source's by default." }),
    metadata: t.field({ type: 'JSONObject', description: "Its metadata; the source's by default." }),
    expiresAfter: t.field({
      type: ExpirationPolicyInput,
      description: "When it expires; the source's policy by default.",
    }),
    maxFiles: t.int({
      description: `The most files the source may hold (default ${DEFAULT_MAX_FILES}, up to ${MAX_FILES}); the upstream-call estimate is priced on it, and a larger source is refused before anything is created.`,
    }),
    waitSeconds: t.int({ description: WAIT_SECONDS_DESCRIPTION }),
  }),
});

const RecreateVectorStorePayload = attachPayload(
  'RecreateVectorStorePayload',
  "The new store with the source's files attached, and an answer for each file that was not (`index`: its position in the source's file list, oldest first).",
);

function maxFilesOf(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_FILES
    ? value
    : DEFAULT_MAX_FILES;
}

builder.mutationField('recreateVectorStore', (t) =>
  t.field({
    // The source, its file list, whether its Files still exist, the new store, the attach, the wait.
    ...costs(
      inputPrice((input) => {
        const files = maxFilesOf(input.maxFiles);
        const calls =
          1 +
          wholeListCalls(files) +
          fileReads(files) +
          1 +
          attachCalls(files) +
          waitCalls(input.waitSeconds, attachBatches(files));
        return { calls, rows: files };
      }),
    ),
    type: RecreateVectorStorePayload,
    description:
      "Creates a vector store from another store's files (for instance one that expired, which can no longer be searched), each file keeping its attributes and chunking. The Files are not uploaded again. A File that no longer exists is answered in `failures`; the others go on.",
    errors: resultOptions('recreateVectorStore'),
    args: {
      input: t.arg({
        type: RecreateVectorStoreInput,
        required: true,
        description: 'The source, and what to change.',
      }),
    },
    resolve: (_root, { input }, context) => {
      const errors: ErrorContext = {
        paths: inputPaths({
          vector_store_id: 'input.from',
          name: 'input.name',
          description: 'input.description',
          metadata: 'input.metadata',
          expires_after: 'input.expiresAfter',
        }),
        notFound: { field: 'input.from', message: 'No such vector store.' },
      };
      return guarded(errors, async () => {
        const sourceId = parseVectorStoreId(String(input.from), 'input.from');
        if (input.maxFiles != null && maxFilesOf(input.maxFiles) !== input.maxFiles) {
          throw new InvalidInputError(
            'input.maxFiles',
            `\`input.maxFiles\` must be between 1 and ${MAX_FILES}.`,
          );
        }
        const maxFiles = maxFilesOf(input.maxFiles);
        const waitSeconds = parseWaitSeconds(input.waitSeconds, 'input.waitSeconds');
        const overrides: OpenAI.VectorStores.VectorStoreCreateParams = {};
        if (input.name != null) overrides.name = input.name;
        if (input.description != null) overrides.description = input.description;
        if (input.metadata) overrides.metadata = validateMetadata(input.metadata, 'input.metadata');
        if (input.expiresAfter) {
          overrides.expires_after = validateExpiresAfter(input.expiresAfter, 'input.expiresAfter');
        }

        const source = await context.loaders.vectorStore.load(sourceId);
        if (!source) throw new NotFoundError('input.from', 'No such vector store.');
        // Whether OpenAI lists the files of an expired store is not recorded anywhere; if it
        // refuses, that refusal is the answer, and nothing has been created yet.
        const listed = await readWholeList(context, sourceId, maxFiles);
        if (!listed) {
          throw new InvalidInputError(
            'input.maxFiles',
            `The source holds more than ${maxFiles} files: raise \`input.maxFiles\` (up to ${MAX_FILES}); nothing was created.`,
          );
        }
        const { present, failures } = await stillExisting(context, listed);

        const vectorStore = await context.upstream.createVectorStore({
          name: source.name ?? undefined,
          ...(source.description ? { description: source.description } : {}),
          ...(source.metadata ? { metadata: source.metadata } : {}),
          ...(source.expires_after ? { expires_after: source.expires_after } : {}),
          ...overrides,
        });
        context.loaders.vectorStore.prime(vectorStore.id, vectorStore);
        const positions = new Map(listed.map((file, index) => [file.id, index]));
        const { attached, batches, failed } = await attachFiles(
          context,
          vectorStore.id,
          present.map((file) => file.id),
          sameSettings(present),
        );
        for (const [fileId, reason] of failed) {
          failures.push(fileFailure({ index: positions.get(fileId) ?? 0, fileId, stage: 'ATTACH' }, reason));
        }
        failures.sort((a, b) => a.index - b.index);
        forgetStore(context, vectorStore.id, attached, batches);
        const payload: AttachPayloadShape = {
          vectorStoreId: vectorStore.id,
          fileIds: attached,
          failures,
          ...(await waitForBatches(context, batches, waitSeconds)),
        };
        return payload;
      });
    },
  }),
);

/** The listed files whose File still exists (one listing of the project's files answers all). */
async function stillExisting(
  context: Context,
  listed: readonly VectorStoreFile[],
): Promise<{ present: VectorStoreFile[]; failures: FileFailureShape[] }> {
  const files = await context.loaders.file.loadMany(listed.map((file) => file.id));
  const present: VectorStoreFile[] = [];
  const failures: FileFailureShape[] = [];
  listed.forEach((file, index) => {
    const found = files[index];
    if (found === null) {
      const gone = new FileProblem('NOT_FOUND', 'the File no longer exists.');
      failures.push(fileFailure({ index, fileId: file.id, stage: 'ATTACH' }, gone));
    } else if (found instanceof Error) {
      failures.push(fileFailure({ index, fileId: file.id, stage: 'ATTACH' }, found));
    } else {
      present.push(file);
    }
  });
  return { present, failures };
}

/** Each file with the attributes and chunking it had in the source. */
function sameSettings(files: readonly VectorStoreFile[]): AttachSettings {
  return {
    perFile: new Map(
      files.map((file) => [
        file.id,
        { attributes: file.attributes ?? undefined, chunking: chunkingOf(file.chunking_strategy) },
      ]),
    ),
  };
}

/** A file's strategy as a parameter; `other` (files chunked before strategies existed) is left to OpenAI. */
function chunkingOf(strategy: VectorStoreFile['chunking_strategy']): ChunkingParam | undefined {
  return strategy?.type === 'static' ? { type: 'static', static: strategy.static } : undefined;
}
