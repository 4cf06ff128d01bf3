/**
 * The cursor of an orphan scan (orphanedFiles, deleteOrphanedFiles). It carries what a scan needs
 * to go on when its cached state is gone (a restart, another replica, expiry): its settings, and
 * the last file of `GET /files` it examined. The attached-file set is too large to carry; it is
 * cached under the scan id and rebuilt when missing (orphan-scan.ts).
 *
 * Opaque (base64url JSON) and signed with a digest keyed by the credential: a cursor shown to
 * another credential, or altered, is refused. The cache is keyed by the credential too, so even a
 * forged scan id reaches only the caller's own scans.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** A file of `GET /files`, as a scan position: its id, and its creation second for a fallback. */
export interface FilePosition {
  id: string;
  createdAt: number;
}

export interface OrphanCursor {
  scanId: string;
  purpose: string;
  olderThanSeconds: number;
  /** Unix seconds, fixed when the scan began: files created after it are never its orphans. */
  cutoff: number;
  /** The last file examined; null before the first. */
  position: FilePosition | null;
}

/** Signs cursor text for one credential (Upstream.credentialDigest). */
export type CursorSigner = (data: string) => Buffer;

const VERSION = 1;
/** 128 bits: scan ids are not guessable, though the cache's credential key is what isolates them. */
const SCAN_ID_BYTES = 16;
/** Of the SHA-256 digest; enough that altering a cursor goes unnoticed with negligible odds. */
const MAC_BYTES = 16;
/** Far above a real cursor (about 200 characters); checked before anything is decoded. */
const MAX_CURSOR_LENGTH = 1000;

export function newScanId(): string {
  return randomBytes(SCAN_ID_BYTES).toString('base64url');
}

function mac(sign: CursorSigner, body: string): Buffer {
  return sign(`orphan-scan-cursor:${body}`).subarray(0, MAC_BYTES);
}

export function encodeCursor(cursor: OrphanCursor, sign: CursorSigner): string {
  const fields = [
    VERSION,
    cursor.scanId,
    cursor.purpose,
    cursor.olderThanSeconds,
    cursor.cutoff,
    cursor.position?.id ?? null,
    cursor.position?.createdAt ?? null,
  ];
  const body = Buffer.from(JSON.stringify(fields), 'utf8').toString('base64url');
  return `${body}.${mac(sign, body).toString('base64url')}`;
}

export type DecodedCursor =
  | { ok: true; cursor: OrphanCursor }
  | { ok: false; problem: 'malformed' | 'foreign' };

/** Reads a cursor this credential issued; anything else is `malformed` or `foreign`. */
export function decodeCursor(text: string, sign: CursorSigner): DecodedCursor {
  const malformed = { ok: false, problem: 'malformed' } as const;
  if (text.length > MAX_CURSOR_LENGTH) return malformed;
  const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(text);
  if (!match) return malformed;
  const [, body = '', signature = ''] = match;
  const presented = Buffer.from(signature, 'base64url');
  const expected = mac(sign, body);
  if (presented.length !== expected.length) return malformed;
  // A well-formed cursor that fails its signature was issued to another credential, or altered.
  if (!timingSafeEqual(presented, expected)) return { ok: false, problem: 'foreign' };
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return malformed;
  }
  if (!Array.isArray(fields) || fields.length !== 7 || fields[0] !== VERSION) return malformed;
  const [, scanId, purpose, olderThanSeconds, cutoff, positionId, positionCreatedAt] = fields;
  if (
    typeof scanId !== 'string' ||
    typeof purpose !== 'string' ||
    !Number.isSafeInteger(olderThanSeconds) ||
    !Number.isSafeInteger(cutoff) ||
    !(
      (positionId === null && positionCreatedAt === null) ||
      (typeof positionId === 'string' && Number.isSafeInteger(positionCreatedAt))
    )
  ) {
    return malformed;
  }
  return {
    ok: true,
    cursor: {
      scanId,
      purpose,
      olderThanSeconds: olderThanSeconds as number,
      cutoff: cutoff as number,
      position:
        typeof positionId === 'string' ? { id: positionId, createdAt: positionCreatedAt as number } : null,
    },
  };
}
