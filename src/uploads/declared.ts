import { type Readable, Transform, type TransformCallback } from 'node:stream';
import type { FileUpload } from 'graphql-upload-minimal';
import { UploadSizeMismatch } from '../upstream/index.ts';
import { largestFile, type UploadLimits } from './parse.ts';
import { UploadProblem } from './problems.ts';
import { type ReceivedFile, type RefusedFile, receiveUpload } from './receive.ts';

/**
 * Sizes a client declares for the files of its upload (a browser knows each `File.size` before it
 * sends a byte). Checked against the limits before anything goes upstream, a declared size picks
 * the way a file takes to OpenAI, and the bytes that then arrive must add up to it.
 */

/** How one file goes to OpenAI, or why it does not go at all. */
export type FileRoute =
  /** Streamed to `POST /files`; `maxBytes` is the limit its stream is held to. */
  | { via: 'files'; maxBytes: number }
  /** Sent in parts through the Uploads API; `bytes` is its declared size. */
  | { via: 'parts'; bytes: number; maxBytes: number }
  /** Refused from its declared size alone: nothing of it is sent. */
  | { via: 'none'; problem: UploadProblem };

export function routeOf(declared: number | undefined, limits: UploadLimits): FileRoute {
  if (declared === undefined) return { via: 'files', maxBytes: limits.maxFileBytes };
  if (declared > limits.partedUploadBytes && declared <= limits.maxPartedFileBytes) {
    return { via: 'parts', bytes: declared, maxBytes: limits.maxPartedFileBytes };
  }
  if (declared <= limits.maxFileBytes) return { via: 'files', maxBytes: limits.maxFileBytes };
  const largest = partsPossible(limits) ? limits.maxPartedFileBytes : limits.maxFileBytes;
  return {
    via: 'none',
    problem: new UploadProblem(
      'FILE_TOO_LARGE',
      `its declared size of ${declared} bytes is over the upload limit of ${largest} bytes; nothing of it was sent.`,
    ),
  };
}

/**
 * How a file for a vector store goes to OpenAI: only through `POST /files`, since file search
 * takes no file over its 512 MB (the Uploads API's larger files serve other purposes). A file
 * declared larger than that is refused before any of it is sent.
 */
export function storeRouteOf(declared: number | undefined, limits: UploadLimits): FileRoute {
  if (declared === undefined || declared <= limits.maxFileBytes) {
    return { via: 'files', maxBytes: limits.maxFileBytes };
  }
  return {
    via: 'none',
    problem: new UploadProblem(
      'FILE_TOO_LARGE',
      `its declared size of ${declared} bytes is over the ${limits.maxFileBytes} bytes a file attached to a vector store may have; nothing of it was sent. createFiles takes larger files for other purposes.`,
    ),
  };
}

/** Whether any file can go in parts under these limits. */
function partsPossible(limits: UploadLimits): boolean {
  return limits.maxPartedFileBytes > limits.partedUploadBytes;
}

/**
 * What a file sent without a declared size, and found too large for `POST /files`, could have
 * done instead; null when nothing (no file goes in parts under these limits).
 */
export function undeclaredHint(limits: UploadLimits): string | null {
  return partsPossible(limits)
    ? `Declare its size in \`sizes\` to send files of up to ${limits.maxPartedFileBytes} bytes in parts.`
    : null;
}

/**
 * Checks a list of declared sizes against the files it describes: one per file, in their order,
 * none negative. Returns the sizes by file (all undefined when none were given), or where the
 * list is wrong and why (`index` null: the list as a whole).
 */
export function checkDeclaredSizes(
  sizes: readonly number[] | null | undefined,
  files: number,
): { sizes: Array<number | undefined> } | { index: number | null; message: string } {
  if (sizes == null) return { sizes: Array.from({ length: files }, () => undefined) };
  if (sizes.length !== files) {
    return {
      index: null,
      message: `Give one size per file, in the order of \`files\`: ${sizes.length} sizes for ${files} files.`,
    };
  }
  const negative = sizes.findIndex((size) => !(Number.isSafeInteger(size) && size >= 0));
  if (negative >= 0) return { index: negative, message: 'A size is a whole number of bytes, 0 or more.' };
  return { sizes: [...sizes] };
}

/**
 * The file's bytes, failing with UploadSizeMismatch as soon as they pass the declared size, or at
 * their end when they fall short of it: the consumer sees the failure before the file's end, so an
 * upload of it is cut (or cancelled) and nothing of it is kept upstream.
 */
export function matchDeclared(body: Readable, declared: number): Readable {
  let received = 0;
  const matched = new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      received += chunk.byteLength;
      if (received > declared) done(new UploadSizeMismatch(declared, received));
      else done(null, chunk);
    },
    flush(done: TransformCallback) {
      done(received === declared ? null : new UploadSizeMismatch(declared, received));
    },
  });
  body.on('error', (error) => matched.destroy(error));
  // A consumer that gives up on this stream gives up on the file's own stream too (receive.ts
  // drains the part behind it).
  matched.once('close', () => {
    if (!matched.readableEnded) body.destroy();
  });
  matched.on('error', () => {});
  body.pipe(matched);
  return matched;
}

/**
 * Takes a file's part the way its route says: a file refused by its declared size alone has its
 * part read and dropped, with nothing sent upstream; any other file's bytes are held to the
 * route's limit and, when a size was declared, to that size.
 */
export async function receiveRouted(
  upload: Promise<FileUpload>,
  route: FileRoute,
  declared: number | undefined,
  limits: UploadLimits,
  signal: AbortSignal | undefined,
): Promise<ReceivedFile | RefusedFile> {
  const received = await receiveUpload(
    upload,
    route.via === 'none' ? largestFile(limits) : route.maxBytes,
    signal,
  );
  if (route.via === 'none') {
    if ('body' in received) received.body.destroy();
    return { filename: received.filename, problem: route.problem };
  }
  if ('problem' in received || declared === undefined) return received;
  return { ...received, body: matchDeclared(received.body, declared) };
}
