import { type Readable, Transform, type TransformCallback } from 'node:stream';
import type { FileUpload } from 'graphql-upload-minimal';
import { UploadProblem } from './problems.ts';

/**
 * Taking the files of a multipart request (`Upload` values of graphql-upload-minimal) one by one.
 * The parts arrive in order on one request: a part must be read to its end, or drained, before
 * the next one arrives. So a part is never destroyed (busboy would stall the whole form waiting
 * for it to be read); what the rest of the gateway gets is a plain stream of its bytes, and giving
 * up on that stream drains the part behind it, which busboy bounds at the size limit.
 */

/** Uploads already taken, across the fields of a request (`a: f(file: $x) b: f(file: $x)`). */
const taken = new WeakSet<FileUpload>();

/** A file to stream: destroying `body` (the consumer gave up) drains the part behind it. */
export interface ReceivedFile {
  filename: string;
  mimetype: string;
  /** The bytes; fails with an UploadProblem when the file is over the limit or cut short. */
  body: Readable;
}

/** A file that cannot be streamed; its name is known when its part did arrive. */
export interface RefusedFile {
  filename: string | null;
  problem: UploadProblem;
}

/**
 * Waits for the file's part and takes its bytes, or says why they cannot be had. A part that has
 * not arrived when `signal` aborts (the operation's deadline, the client gone) never will: a map
 * can name parts the client never sends.
 */
export async function receiveUpload(
  upload: Promise<FileUpload>,
  maxFileBytes: number,
  signal?: AbortSignal,
): Promise<ReceivedFile | RefusedFile> {
  let file: FileUpload;
  try {
    file = await untilAborted(upload, signal);
  } catch (error) {
    return { filename: null, problem: UploadProblem.from(error, maxFileBytes) };
  }
  if (taken.has(file)) {
    return {
      filename: file.filename,
      problem: new UploadProblem(
        'UPLOAD_REUSED',
        'this upload is given more than once; only its first use is uploaded.',
      ),
    };
  }
  taken.add(file);
  try {
    return {
      filename: file.filename,
      mimetype: file.mimetype,
      body: boundedBody(file.createReadStream(), maxFileBytes),
    };
  } catch (error) {
    return { filename: file.filename, problem: UploadProblem.from(error, maxFileBytes) };
  }
}

const NOT_ARRIVED = new UploadProblem('UPLOAD_INCOMPLETE', 'its part did not arrive before the deadline.');

function untilAborted<T>(pending: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return pending;
  if (signal.aborted) return Promise.reject(NOT_ARRIVED);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(NOT_ARRIVED);
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Drains the parts of files the mutation will not stream (it failed before streaming them), so
 * the rest of the request still parses.
 */
export function discardUploads(uploads: readonly Promise<FileUpload>[]): void {
  for (const upload of uploads) {
    upload.then(
      (file) => {
        if (taken.has(file)) return;
        taken.add(file);
        try {
          drain(file.createReadStream());
        } catch {
          // Already failed (over the limit, or the client left): nothing is left to read.
        }
      },
      () => {},
    );
  }
}

/** Reads a part to its end without keeping it, so the parser moves on to the next part. */
function drain(part: Readable): void {
  if (part.readableEnded || part.destroyed) return;
  part.on('error', () => {});
  part.resume();
}

/**
 * The part's bytes, failing with FILE_TOO_LARGE past `maxFileBytes` (the parser's own limit is a
 * byte above it, so it only truncates what is too large anyway) and with the parser's reason when
 * the part is cut short. Once the body ends in any way but its end, the part is drained.
 */
function boundedBody(part: Readable, maxFileBytes: number): Readable {
  let bytes = 0;
  const body = new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      bytes += chunk.byteLength;
      if (bytes > maxFileBytes) done(UploadProblem.tooLarge(maxFileBytes));
      else done(null, chunk);
    },
    flush(done: TransformCallback) {
      // busboy ends a truncated part normally; only the flag tells it apart from a whole file.
      if ((part as Readable & { truncated?: boolean }).truncated) done(UploadProblem.tooLarge(maxFileBytes));
      else done();
    },
  });
  part.on('error', (error) => body.destroy(UploadProblem.from(error, maxFileBytes)));
  // A body may fail before anyone reads it (the client leaves while the file waits for a slot);
  // its reader still gets the error, from the stream's errored state.
  body.on('error', () => {});
  body.once('close', () => {
    if (body.writableFinished && body.readableEnded) return;
    part.unpipe(body);
    drain(part);
  });
  part.pipe(body);
  return body;
}
