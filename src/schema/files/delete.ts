import { mapConcurrent } from '../../concurrency.ts';
import type { Context } from '../../context.ts';
import { UpstreamError } from '../../upstream/index.ts';
import { builder } from '../builder.ts';
import { costs, inputPrice, lengthOf } from '../cost.ts';
import {
  FileFailure,
  type FileFailureShape,
  FileProblem,
  fileFailure,
  guarded,
  inputPaths,
  resultOptions,
} from '../errors.ts';
import { encodeGlobalId } from '../ids.ts';
import { parseFileIds, validateCount } from '../validation.ts';

/** OpenAI has no bulk delete: each File is one call, so a request deletes at most this many. */
export const MAX_DELETE_FILES = 100;
/** Deletes in flight at once for one request, within the credential's own concurrency limit. */
const DELETE_CONCURRENCY = 5;

export interface DeletedFiles {
  deleted: string[];
  failures: FileFailureShape[];
}

/**
 * Deletes each File once, `DELETE_CONCURRENCY` at a time; one that fails is answered by its
 * input position and does not stop the others. A File already gone is a NOT_FOUND failure, so a
 * caller can tell it from one this request deleted.
 */
export async function deleteEach(
  context: Context,
  ids: readonly string[],
  positions: readonly number[],
): Promise<DeletedFiles> {
  const outcomes = await mapConcurrent(ids, DELETE_CONCURRENCY, async (fileId, i) => {
    try {
      await context.upstream.deleteFile(fileId);
      return { deleted: fileId };
    } catch (error) {
      const reason =
        error instanceof UpstreamError && error.code === 'NOT_FOUND'
          ? new FileProblem('NOT_FOUND', 'no such file.')
          : error;
      return { failure: fileFailure({ index: positions[i] ?? i, fileId, stage: 'DELETE' }, reason) };
    }
  });
  for (const id of ids) context.loaders.file.clear(id);
  return {
    deleted: outcomes.flatMap((outcome) => (outcome.deleted ? [outcome.deleted] : [])),
    failures: outcomes.flatMap((outcome) => (outcome.failure ? [outcome.failure] : [])),
  };
}

const DeleteFilesInput = builder.inputType('DeleteFilesInput', {
  description: 'Files to delete from OpenAI.',
  fields: (t) => ({
    fileIds: t.idList({
      required: true,
      description: `File global ids or raw file-... ids (1 to ${MAX_DELETE_FILES}; a file named twice is deleted once).`,
    }),
  }),
});

const DeleteFilesPayload = builder.objectRef<DeletedFiles>('DeleteFilesPayload').implement({
  description: 'The Files deleted, and an answer for each one that was not.',
  fields: (t) => ({
    deletedIds: t.idList({
      description: 'Global ids of the Files deleted (for a Relay `@deleteRecord`).',
      resolve: (payload) => payload.deleted.map((id) => encodeGlobalId('File', id)),
    }),
    deletedOpenaiIds: t.stringList({
      description: 'The raw OpenAI ids (file-...) of the Files deleted.',
      resolve: (payload) => payload.deleted,
    }),
    failures: t.field({
      type: [FileFailure],
      description: 'The files that were not deleted, and why (NOT_FOUND: there was no such file).',
      resolve: (payload) => payload.failures,
    }),
  }),
});

builder.mutationField('deleteFiles', (t) =>
  t.field({
    // One call per distinct file.
    ...costs(
      inputPrice((input) => {
        const files = lengthOf(input.fileIds);
        return { calls: files, rows: files };
      }),
    ),
    type: DeleteFilesPayload,
    description:
      'Deletes Files from OpenAI, which also takes them out of every vector store (whose `fileCounts` OpenAI may update late; `removeFiles` with `deleteFiles` detaches first). Each file gets its own answer.',
    errors: resultOptions('deleteFiles'),
    args: {
      input: t.arg({ type: DeleteFilesInput, required: true, description: 'The files to delete.' }),
    },
    resolve: (_root, { input }, context) =>
      guarded(
        {
          paths: inputPaths({ file_id: 'input.fileIds' }),
          notFound: { field: 'input.fileIds', message: 'No such file.' },
        },
        async () => {
          validateCount(input.fileIds, 'input.fileIds', { min: 1, max: MAX_DELETE_FILES }, 'file ids');
          const { ids, positions } = parseFileIds(input.fileIds, 'input.fileIds');
          return deleteEach(context, ids, positions);
        },
      ),
  }),
);
