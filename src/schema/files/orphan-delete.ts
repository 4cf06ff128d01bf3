/**
 * `deleteOrphanedFiles`: the next orphans of a scan (orphan-scan.ts), checked again against the
 * stores (orphan-recheck.ts), then deleted, or in a dry run only reported. Priced exactly: the
 * scan's allowance, the recheck's, and one delete per orphan asked for.
 */
import { mapConcurrent } from '../../concurrency.ts';
import type { Context } from '../../context.ts';
import type { FileObject } from '../../upstream/index.ts';
import { builder } from '../builder.ts';
import { PAGE_SIZE } from '../connections.ts';
import { costs, inputPrice } from '../cost.ts';
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
import { encodeGlobalId } from '../ids.ts';
import {
  cursorAt,
  cursorSigner,
  ORPHAN_ARGUMENT_DESCRIPTIONS,
  ORPHAN_MIN_AGE,
  ORPHAN_PURPOSE,
  ScanArgumentError,
  scanCursor,
  scanPageSize,
} from './orphan-args.ts';
import type { FilePosition, OrphanCursor } from './orphan-cursor.ts';
import { ORPHAN_RECHECK_CALLS, type Recheck, recheckStores } from './orphan-recheck.ts';
import {
  CallAllowance,
  ORPHAN_SCAN_CALLS,
  type OrphanPage,
  type ScanProgress,
  scanPage,
  withScan,
} from './orphan-scan.ts';
import { OrphanScan } from './orphans.ts';
import { FileRef } from './types.ts';

/** Deletes in flight at once: OpenAI deletes Files one call each. */
const DELETE_CONCURRENCY = 5;

const DeleteOrphanedFilesInput = builder.inputType('DeleteOrphanedFilesInput', {
  description: 'Which orphans to delete: the next ones of a scan.',
  fields: (t) => ({
    first: t.int({
      description: `Orphans to delete (1..${PAGE_SIZE.max}, default ${PAGE_SIZE.default}).`,
    }),
    after: t.string({ description: ORPHAN_ARGUMENT_DESCRIPTIONS.after }),
    purpose: t.string({ defaultValue: ORPHAN_PURPOSE, description: ORPHAN_ARGUMENT_DESCRIPTIONS.purpose }),
    olderThanSeconds: t.int({
      defaultValue: ORPHAN_MIN_AGE.default,
      description: ORPHAN_ARGUMENT_DESCRIPTIONS.olderThanSeconds,
    }),
    dryRun: t.boolean({
      defaultValue: false,
      description:
        'Only report what would be deleted (the stores are still checked again); nothing is deleted.',
    }),
  }),
});

interface DeleteOrphansShape {
  dryRun: boolean;
  /** The orphans of this call, checked and not kept: deleted, failed, or in a dry run reported. */
  orphans: FileObject[];
  deleted: string[];
  kept: string[];
  failures: FileFailureShape[];
  endCursor: string;
  hasMore: boolean;
  scan: ScanProgress;
  recheck: Recheck;
}

const OrphanRecheck = builder.objectRef<Recheck>('OrphanRecheck').implement({
  description:
    'The check made before deleting: the stores listed again, and each one attached to since the scan read it read again.',
  fields: (t) => ({
    complete: t.exposeBoolean('complete', {
      description:
        'Whether every store that changed was read again. When false, nothing was deleted: call again with the same `after`, which goes on with the check.',
    }),
    storesRechecked: t.exposeInt('storesRechecked', {
      description: 'Stores read again because they changed since the scan read them.',
    }),
  }),
});

const DeleteOrphanedFilesPayload = builder
  .objectRef<DeleteOrphansShape>('DeleteOrphanedFilesPayload')
  .implement({
    description: 'The orphans deleted (or, in a dry run, that would be), and where the scan stands.',
    fields: (t) => ({
      dryRun: t.exposeBoolean('dryRun', { description: 'Whether this was a dry run.' }),
      deletedIds: t.idList({
        description: 'Global ids of the Files deleted; empty in a dry run.',
        resolve: (payload) => payload.deleted.map((id) => encodeGlobalId('File', id)),
      }),
      wouldDeleteIds: t.idList({
        description: 'In a dry run, global ids of the Files a real run would delete; empty otherwise.',
        resolve: (payload) =>
          payload.dryRun ? payload.orphans.map((file) => encodeGlobalId('File', file.id)) : [],
      }),
      files: t.field({
        type: [FileRef],
        description:
          'The orphans this call deleted, failed to delete, or in a dry run would delete, as listed before.',
        resolve: (payload) => payload.orphans,
      }),
      keptIds: t.idList({
        description:
          'Global ids of Files the scan found orphaned but that were attached to a store since: kept.',
        resolve: (payload) => payload.kept.map((id) => encodeGlobalId('File', id)),
      }),
      failures: t.field({
        type: [FileFailure],
        description: 'The orphans that could not be deleted, and why.',
        resolve: (payload) => payload.failures,
      }),
      endCursor: t.exposeString('endCursor', {
        description: 'Pass it as `input.after` to go on; a dry run goes on after what it reported.',
      }),
      hasMore: t.exposeBoolean('hasMore', {
        description: 'Whether the scan has more to do: call again with `endCursor`.',
      }),
      scan: t.field({ type: OrphanScan, description: 'How far the scan got.', resolve: (p) => p.scan }),
      recheck: t.field({
        type: OrphanRecheck,
        description: 'The check made before deleting.',
        resolve: (payload) => payload.recheck,
      }),
    }),
  });

/** What the price reads `input.first` as: the page size the resolver accepts, or would refuse. */
function orphansAskedFor(first: unknown): number {
  if (typeof first !== 'number') return PAGE_SIZE.default;
  return Math.min(PAGE_SIZE.max, Math.max(1, Math.trunc(first)));
}

const inputName = (argument: string) => `input.${argument}`;

builder.mutationField('deleteOrphanedFiles', (t) =>
  t.field({
    // The scan, the recheck with what the scan left, and one delete per orphan.
    ...costs(
      inputPrice((input) => {
        const orphans = orphansAskedFor(input.first);
        const deletes = input.dryRun === true ? 0 : orphans;
        return { calls: ORPHAN_SCAN_CALLS + ORPHAN_RECHECK_CALLS + deletes, rows: orphans };
      }),
    ),
    type: DeleteOrphanedFilesPayload,
    description: `Deletes the next Files attached to no vector store (or, with \`dryRun\`, lists them), up to \`first\` a call: the scan of \`orphanedFiles\`, then every store changed since it was read is read again, so a file attached meanwhile is kept. At most ${ORPHAN_SCAN_CALLS} + ${ORPHAN_RECHECK_CALLS} upstream calls before the deletes; go on with \`endCursor\` while \`hasMore\`.`,
    errors: resultOptions('deleteOrphanedFiles'),
    args: {
      input: t.arg({ type: DeleteOrphanedFilesInput, required: true, description: 'Which orphans.' }),
    },
    resolve: (_root, { input }, context) => {
      const errors: ErrorContext = {
        paths: inputPaths({}),
        notFound: { field: 'input', message: 'An object the scan read is gone.' },
      };
      return guarded(errors, async () => {
        const sign = cursorSigner(context);
        let want: number;
        let cursor: OrphanCursor;
        try {
          want = scanPageSize(input.first, inputName);
          cursor = scanCursor(input, sign, inputName);
        } catch (error) {
          if (error instanceof ScanArgumentError)
            throw new InvalidInputError(inputName(error.argument), error.message);
          throw error;
        }
        const dryRun = input.dryRun ?? false;
        const checked = await withScan(context.upstream, cursor.scanId, async (state) => {
          const calls = new CallAllowance(ORPHAN_SCAN_CALLS);
          const page = await scanPage(context.upstream, state, cursor, want, calls);
          if (page.orphans.length === 0) return { page, recheck: { complete: true, storesRechecked: 0 } };
          const recheck = await recheckStores(
            context.upstream,
            state,
            new CallAllowance(ORPHAN_RECHECK_CALLS + calls.left),
          );
          return {
            page,
            recheck,
            attached: new Set(page.orphans.filter((f) => state.attached.has(f.id)).map((f) => f.id)),
          };
        });
        const { page, recheck } = checked;
        if (!recheck.complete) {
          // Nothing is deleted unchecked; the next call resumes the recheck where this one stopped.
          return {
            dryRun,
            orphans: [],
            deleted: [],
            kept: [],
            failures: [],
            endCursor: cursorAt(cursor, cursor.position, sign),
            hasMore: true,
            scan: { ...page.progress, complete: false },
            recheck,
          };
        }
        const attached = checked.attached ?? new Set<string>();
        const orphans = page.orphans.filter((file) => !attached.has(file.id));
        const outcome = dryRun ? { deleted: [], failures: [] } : await deleteAll(context, orphans);
        return {
          dryRun,
          orphans,
          deleted: outcome.deleted,
          kept: [...attached],
          failures: outcome.failures,
          endCursor: cursorAt(cursor, dryRun ? page.end : survivingEnd(page, new Set(outcome.deleted)), sign),
          hasMore: !page.progress.complete,
          scan: page.progress,
          recheck,
        };
      });
    },
  }),
);

async function deleteAll(
  context: Context,
  orphans: readonly FileObject[],
): Promise<{ deleted: string[]; failures: FileFailureShape[] }> {
  const outcomes = await mapConcurrent(orphans, DELETE_CONCURRENCY, async (file, index) => {
    try {
      await context.upstream.deleteFile(file.id);
      context.loaders.file.clear(file.id);
      return { deleted: file.id };
    } catch (error) {
      return { failure: fileFailure({ index, fileId: file.id, stage: 'DELETE' }, error) };
    }
  });
  return {
    deleted: outcomes.flatMap((outcome) => (outcome.deleted ? [outcome.deleted] : [])),
    failures: outcomes.flatMap((outcome) => (outcome.failure ? [outcome.failure] : [])),
  };
}

/**
 * Where the next call starts: the last file examined that still exists. A deleted file cannot be
 * an `after` cursor, and those deleted vanish from the list, so starting before them skips nothing.
 */
function survivingEnd(page: OrphanPage, deleted: ReadonlySet<string>): FilePosition | null {
  const { position, orphansAfter } = page.lastKept;
  for (let index = page.orphans.length - 1; index >= page.orphans.length - orphansAfter; index--) {
    const file = page.orphans[index]!;
    if (!deleted.has(file.id)) return { id: file.id, createdAt: file.created_at };
  }
  return position;
}
