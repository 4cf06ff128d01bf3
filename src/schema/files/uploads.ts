import type { Readable } from 'node:stream';
import type { FileUpload } from 'graphql-upload-minimal';
import { FileProblem } from '../errors.ts';

/**
 * Reading `Upload` values (graphql-upload-minimal). Each file of the request can be read once, and
 * the request's later parts only arrive once it has been: a file the resolver does not stream
 * must still be drained, or the request stalls.
 */

/** Uploads already read, across the fields of a request (`a: f(file: $x) b: f(file: $x)`). */
const claimed = new WeakSet<FileUpload>();

export interface ReceivedFile {
  filename: string;
  mimetype: string;
  stream: Readable;
}

/** A file that cannot be streamed; its name is known when its part did arrive. */
export interface RefusedFile {
  filename: string | null;
  problem: FileProblem;
}

interface HttpLikeError {
  status?: unknown;
}

/** Waits for the file's part and takes its stream, or says why it cannot be had. */
export async function receiveUpload(
  upload: Promise<FileUpload>,
  maxFileBytes: number,
): Promise<ReceivedFile | RefusedFile> {
  let file: FileUpload;
  try {
    file = await upload;
  } catch (error) {
    return { filename: null, problem: uploadProblem(error, maxFileBytes) };
  }
  if (claimed.has(file)) {
    return {
      filename: file.filename,
      problem: new FileProblem(
        'UPLOAD_REUSED',
        'this upload was already used by another part of the request.',
      ),
    };
  }
  claimed.add(file);
  try {
    return { filename: file.filename, mimetype: file.mimetype, stream: file.createReadStream() };
  } catch (error) {
    return { filename: file.filename, problem: uploadProblem(error, maxFileBytes) };
  }
}

/** graphql-upload-minimal's HttpErrors: 413 over the limit, 499 the client went away, 400 missing. */
function uploadProblem(error: unknown, maxFileBytes: number): FileProblem {
  const status = (error as HttpLikeError | null)?.status;
  if (status === 413) return tooLarge(maxFileBytes);
  if (status === 499) {
    return new FileProblem('REQUEST_CANCELLED', 'the client went away before the file was complete.');
  }
  return new FileProblem('UPLOAD_INCOMPLETE', 'the request did not carry this file completely.');
}

export function tooLarge(maxFileBytes: number): FileProblem {
  return new FileProblem('FILE_TOO_LARGE', `it is larger than the upload limit of ${maxFileBytes} bytes.`);
}

/**
 * Reads and drops files the mutation will not upload (it failed before streaming them), so the
 * rest of the request still parses. busboy bounds each at the upload size limit.
 */
export function discardUploads(uploads: readonly Promise<FileUpload>[]): void {
  for (const upload of uploads) {
    upload.then(
      (file) => {
        if (claimed.has(file)) return;
        claimed.add(file);
        try {
          const stream = file.createReadStream();
          stream.on('error', () => {});
          stream.resume();
        } catch {
          // Already failed (over the limit, or the client left): nothing is left to read.
        }
      },
      () => {},
    );
  }
}
