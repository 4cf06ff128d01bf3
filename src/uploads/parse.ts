import type { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { processRequest } from 'graphql-upload-minimal';
import { OPENAI_LIMITS, PART_BYTES } from '../upstream/index.ts';

/**
 * Reading a GraphQL multipart request with graphql-upload-minimal 1.6.4, minus what it gets wrong.
 *
 * It places each file by walking the `map` paths through `operations` with plain property reads,
 * which follow inherited properties, and its own guard refuses only `__proto__` and `constructor`:
 * the path `variables.hasOwnProperty.call` replaced `Object.prototype.hasOwnProperty.call` for the
 * whole process, and every later request failed. Each path is checked here before the library
 * sees the map: it must run through the operations' own objects.
 *
 * Its busboy parser can emit 'error' twice: a malformed part header, then "Unexpected end of form"
 * from the destroy the library answers the first with. The library listens once, so the second
 * went unhandled and a 20-byte request (`--boundary` and a blank line) took the process down.
 *
 * It also answers a form with neither field with a 500 that blames "another middleware", and a
 * content type without a boundary with a message that only repeats the content type.
 */

export interface UploadLimits {
  /** The largest file streamed to `POST /files`; OpenAI's own limit is 512 MB per file. */
  maxFileBytes: number;
  /** The largest file sent in parts through the Uploads API (OpenAI's limit, 8 GB); 0: none is. */
  maxPartedFileBytes: number;
  /** A file whose declared size is over this goes in parts; the others go to `POST /files`. */
  partedUploadBytes: number;
  /** The size of one part of a parted upload. */
  partBytes: number;
  maxFiles: number;
  /** The `operations` and `map` fields of a multipart request. */
  maxFieldBytes: number;
}

export const defaultUploadLimits: UploadLimits = {
  maxFileBytes: OPENAI_LIMITS.fileBytes,
  maxPartedFileBytes: OPENAI_LIMITS.upload.bytes,
  // Only what `POST /files` cannot take goes in parts: one streamed POST is one upstream call
  // and holds no part buffers, where a parted upload costs a call per 8 MiB against the
  // operation's budget (150 by default) and up to 32 MiB of buffers.
  partedUploadBytes: OPENAI_LIMITS.fileBytes,
  partBytes: PART_BYTES,
  maxFiles: 20,
  maxFieldBytes: 1024 * 1024,
};

/** The largest file these limits take, by whichever way it goes. */
export function largestFile(limits: UploadLimits): number {
  return Math.max(limits.maxFileBytes, limits.maxPartedFileBytes);
}

/** The largest multipart request these limits let through, part headers included. */
export function largestUpload(limits: UploadLimits): number {
  return limits.maxFiles * (largestFile(limits) + 1) + 2 * limits.maxFieldBytes + 2 ** 20;
}

/** The body of a multipart request as a Node stream, with its headers (an IncomingMessage is one). */
export type MultipartBody = Readable & { headers: IncomingHttpHeaders };

/** A refusal with the HTTP status to answer it with, as graphql-upload-minimal's errors carry. */
export class UploadRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'UploadRequestError';
  }
}

const SPEC = 'https://github.com/jaydenseric/graphql-multipart-request-spec';

/**
 * Parses the operations and map; files stay streams, read later by the resolvers. `response` is
 * the Node response when there is one: once it closes, later reads of a file fail at once.
 */
export async function parseUploadRequest(
  req: MultipartBody,
  response: EventEmitter | undefined,
  limits: UploadLimits,
): Promise<unknown> {
  // Its own words for this are "Invalid content-type multipart/form-data, should be multipart/form-data;".
  if (!/;\s*boundary=/i.test(req.headers['content-type'] ?? '')) {
    throw new UploadRequestError(
      400,
      'A multipart request needs its boundary: `multipart/form-data; boundary=...`.',
    );
  }
  guardParser(req);
  try {
    return await processRequest(req as never, response as never, {
      // One byte over the limit is enough to know a file is too large. Which limit applies to a
      // file (POST /files, or parts) is the resolver's to say, through receive.ts.
      maxFileSize: largestFile(limits) + 1,
      maxFiles: limits.maxFiles,
      maxFieldSize: limits.maxFieldBytes,
    });
  } catch (error) {
    const status = (error as { status?: unknown } | null)?.status;
    // Only "no operations and no map at all" is a 500 there, and it is the client's mistake.
    if (typeof status === 'number' && status >= 500) {
      throw new UploadRequestError(
        400,
        `The multipart request has no 'operations' and no 'map' field (${SPEC}).`,
      );
    }
    throw error;
  }
}

/**
 * graphql-upload-minimal pipes the request into a busboy parser and acts on its events. The
 * parser is taken as it is piped: it gets an 'error' listener of its own, so no second error is
 * ever unhandled, and its `map` field is checked before the library's listener gets it; a bad path
 * destroys the parser with a 400, which the library reports as its own error.
 */
function guardParser(req: Readable): void {
  const pipe = req.pipe;
  req.pipe = function pipeThroughGuard<T extends NodeJS.WritableStream>(
    this: Readable,
    parser: T,
    options?: { end?: boolean },
  ): T {
    // Only the first pipe is the library's.
    req.pipe = pipe;
    const emitter = parser as unknown as EventEmitter & { destroy(error: Error): void };
    // The first error reaches the library's listener all the same; this one only keeps later ones
    // from throwing.
    emitter.on('error', () => {});
    const emit = emitter.emit;
    let operations: unknown;
    let refused = false;
    emitter.emit = function emitChecked(this: EventEmitter, event: string | symbol, ...args: unknown[]) {
      if (refused && (event === 'field' || event === 'file')) {
        // busboy finishes the chunk it is parsing; the library must not see those parts, or it
        // reports them (files before the map) instead of the refusal.
        if (event === 'file') (args[1] as NodeJS.ReadableStream).resume();
        return false;
      }
      if (event === 'field' && args[0] === 'operations') operations = parseJson(args[1]);
      if (event === 'field' && args[0] === 'map') {
        const bad = badMapPath(operations, parseJson(args[1]));
        if (bad !== null) {
          refused = true;
          emitter.destroy(
            new UploadRequestError(
              400,
              `The 'map' multipart field path '${bad.slice(0, 200)}' does not name a value of 'operations' (${SPEC}).`,
            ),
          );
          return false;
        }
      }
      return emit.call(this, event, ...args);
    };
    return pipe.call(this, parser, options) as T;
  };
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/**
 * The first map path that leaves the operations' own data (an inherited property, `__proto__`,
 * `constructor` or `prototype` anywhere), or null. Maps and operations that are not even JSON of
 * the right shape are left to the library, which refuses them with its own messages.
 */
export function badMapPath(operations: unknown, map: unknown): string | null {
  if (!isRecord(operations) || !isRecord(map)) return null;
  for (const paths of Object.values(map)) {
    if (!Array.isArray(paths)) continue;
    for (const path of paths) {
      if (typeof path === 'string' && !isOwnPath(operations, path)) return path;
    }
  }
  return null;
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Whether every step but the last is an own property holding an object (where the file goes). */
function isOwnPath(root: object, path: string): boolean {
  const segments = path.split('.');
  if (segments.some((segment) => FORBIDDEN.has(segment))) return false;
  let node: unknown = root;
  for (const segment of segments.slice(0, -1)) {
    if (!isRecord(node) || !Object.hasOwn(node, segment)) return false;
    node = node[segment];
  }
  return isRecord(node);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
