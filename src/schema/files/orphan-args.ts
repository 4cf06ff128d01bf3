/**
 * The arguments every orphan scan takes (orphanedFiles, deleteOrphanedFiles): which scan they
 * name, a new one or the one `after` continues, and each checked with a message that names it.
 */
import type { Context } from '../../context.ts';
import { PAGE_SIZE } from '../connections.ts';
import {
  type CursorSigner,
  decodeCursor,
  encodeCursor,
  type FilePosition,
  newScanId,
  type OrphanCursor,
} from './orphan-cursor.ts';

/**
 * An upload in flight is not attached yet: `uploadFiles` attaches its files once all are in, up to
 * the upload deadline (30 minutes by default) after the first, so files younger than an hour are
 * left alone unless asked.
 */
export const ORPHAN_MIN_AGE = { default: 3600, max: 10 * 365 * 86_400 };
export const ORPHAN_PURPOSE = 'assistants';
/** OpenAI's purposes are short lower-case words (`assistants`, `user_data`, `fine-tune`). */
const PURPOSE_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;

export const ORPHAN_ARGUMENT_DESCRIPTIONS = {
  after: 'Continue a scan: an `endCursor` (or an edge cursor) it returned, for the same credential.',
  purpose: `Only files of this purpose (default \`${ORPHAN_PURPOSE}\`, the purpose of files for vector stores).`,
  olderThanSeconds: `Only files uploaded at least this many seconds before the scan began (default ${ORPHAN_MIN_AGE.default}): a file being uploaded is not attached yet.`,
};

export interface ScanArguments {
  after?: string | null | undefined;
  purpose?: string | null | undefined;
  olderThanSeconds?: number | null | undefined;
}

/** An argument that cannot be used: which, and why. */
export class ScanArgumentError extends Error {
  constructor(
    readonly argument: 'first' | 'after' | 'purpose' | 'olderThanSeconds',
    message: string,
  ) {
    super(message);
    this.name = 'ScanArgumentError';
  }
}

/** How messages name an argument: `first` for the query, `input.first` for the mutation. */
export type ArgumentName = (argument: ScanArgumentError['argument']) => string;
const asIs: ArgumentName = (argument) => argument;

export function cursorSigner(context: Context): CursorSigner {
  return (data) => context.upstream.credentialDigest(data);
}

/**
 * The scan the arguments name: a new one, or the one `after` continues, with the same settings.
 * Null `purpose` and `olderThanSeconds` mean their defaults.
 */
export function scanCursor(
  args: ScanArguments,
  sign: CursorSigner,
  name: ArgumentName = asIs,
  now = Date.now(),
): OrphanCursor {
  const purpose = args.purpose ?? ORPHAN_PURPOSE;
  const olderThanSeconds = args.olderThanSeconds ?? ORPHAN_MIN_AGE.default;
  if (!PURPOSE_PATTERN.test(purpose)) {
    throw new ScanArgumentError(
      'purpose',
      `\`${name('purpose')}\` must be an OpenAI file purpose, e.g. \`${ORPHAN_PURPOSE}\`.`,
    );
  }
  if (olderThanSeconds < 0 || olderThanSeconds > ORPHAN_MIN_AGE.max) {
    throw new ScanArgumentError(
      'olderThanSeconds',
      `\`${name('olderThanSeconds')}\` must be between 0 and ${ORPHAN_MIN_AGE.max}, got ${olderThanSeconds}.`,
    );
  }
  if (args.after == null) {
    return {
      scanId: newScanId(),
      purpose,
      olderThanSeconds,
      cutoff: Math.floor(now / 1000) - olderThanSeconds,
      position: null,
    };
  }
  const decoded = decodeCursor(args.after, sign);
  if (!decoded.ok) {
    throw new ScanArgumentError(
      'after',
      decoded.problem === 'foreign'
        ? `\`${name('after')}\` is a cursor of another credential, or was altered: start a new scan without it.`
        : `\`${name('after')}\` is not a cursor of an orphan scan: pass an \`endCursor\` the scan returned.`,
    );
  }
  const { cursor } = decoded;
  if (cursor.purpose !== purpose || cursor.olderThanSeconds !== olderThanSeconds) {
    throw new ScanArgumentError(
      cursor.purpose !== purpose ? 'purpose' : 'olderThanSeconds',
      `\`${name('after')}\` continues a scan with \`${name('purpose')}: "${cursor.purpose}"\` and \`${name('olderThanSeconds')}: ${cursor.olderThanSeconds}\`: pass those, or start a new scan without it.`,
    );
  }
  return cursor;
}

/** The page size, checked as every connection's `first` is (connections.ts). */
export function scanPageSize(first: number | null | undefined, name: ArgumentName = asIs): number {
  if (first != null && (first < 1 || first > PAGE_SIZE.max)) {
    throw new ScanArgumentError(
      'first',
      `\`${name('first')}\` must be between 1 and ${PAGE_SIZE.max}, got ${first}.`,
    );
  }
  return first ?? PAGE_SIZE.default;
}

export function cursorAt(cursor: OrphanCursor, position: FilePosition | null, sign: CursorSigner): string {
  return encodeCursor({ ...cursor, position }, sign);
}
