/**
 * Streams one file whose size is declared up front into OpenAI's Uploads API: `POST /uploads`,
 * the bytes in parts of a fixed size (`POST /uploads/{id}/parts`), several in flight at once, then
 * `POST /uploads/{id}/complete` with the part ids in order and the md5 of the whole file, which
 * answers with the File. It is how files past the 512 MB of `POST /files` reach OpenAI.
 *
 * Memory is bounded: a part is gathered into one buffer and sent from it, and the buffer is
 * reused once the part is in. While `partsInFlight` parts are being sent the source is not read,
 * so the client's bytes wait in its socket (TCP back-pressure), not here: at most
 * `partsInFlight + 1` part buffers exist per file.
 *
 * Anything that stops the upload (the source failing, a part failing, a size other than the one
 * declared, a refused completion) cancels it upstream, so no pending upload is left behind. The
 * calls themselves are the caller's (Upstream), which counts, budgets and reports each one.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { UploadSizeMismatch } from './errors.ts';
import { OPENAI_LIMITS } from './openai-limits.ts';
import type { FileObject } from './types.ts';

/**
 * 8 MiB: parts in flight times this is the memory an upload holds (3 x 8 MiB, plus the part being
 * filled), while an 8 GB file still fits in 1024 parts. Smaller parts would only add calls,
 * larger ones memory; OpenAI takes up to 64 MB.
 */
export const PART_BYTES = 8 * 1024 * 1024;
/**
 * Parts sent at once per file: the next part is read from the client while earlier ones are
 * still going up, so neither side waits on the other. Each holds one of the credential's
 * concurrency slots (the SDK's fetch goes through it) only while it is being sent.
 */
export const PARTS_IN_FLIGHT = 3;

export function partCount(bytes: number, partBytes = PART_BYTES): number {
  return Math.ceil(bytes / partBytes);
}

/**
 * The most upstream calls one parted upload makes: the create, every part, the completion, a
 * look for the File should the completion's answer be lost (upstream.ts), and the cancel when it
 * fails. The look and the cancel stand for any other follow-up of a File or an upload, one each.
 */
export function partedUploadCalls(bytes: number, partBytes = PART_BYTES): number {
  return 1 + partCount(bytes, partBytes) + 1 + 1 + 1;
}

/** The Uploads API calls one upload makes, as the caller makes them. */
export interface UploadsApi {
  create(): Promise<{ id: string }>;
  /** One part; `signal` aborts it once the upload is given up. */
  addPart(uploadId: string, data: Uint8Array, signal: AbortSignal): Promise<{ id: string }>;
  complete(uploadId: string, partIds: string[], md5: string): Promise<FileObject>;
  /** Must reach upstream even when the request that started the upload is gone. */
  cancel(uploadId: string): Promise<void>;
}

export interface PartedUploadOptions {
  partBytes?: number | undefined;
  partsInFlight?: number | undefined;
}

/**
 * Uploads `source`, which must hold exactly `bytes` bytes. The call owns the stream: when the
 * upload cannot complete it destroys it, so whoever feeds it learns it is no longer read. It
 * rejects with the first reason the upload stopped: the stream's own error when the stream
 * failed, an UploadSizeMismatch, or the failed call's error.
 */
export async function uploadInParts(
  source: Readable,
  bytes: number,
  api: UploadsApi,
  options: PartedUploadOptions = {},
): Promise<FileObject> {
  const partBytes = options.partBytes ?? PART_BYTES;
  const partsInFlight = options.partsInFlight ?? PARTS_IN_FLIGHT;
  if (!(Number.isSafeInteger(partBytes) && partBytes >= 1 && partBytes <= OPENAI_LIMITS.upload.partBytes)) {
    throw new RangeError(`A part is 1 to ${OPENAI_LIMITS.upload.partBytes} bytes, not ${partBytes}.`);
  }
  // The stream's own failure is the reason to report, even when a part it made fail (the client
  // going away aborts the request's calls too) was noticed first. An AbortError is not such a
  // failure: Node's async iterator destroys the stream with one when this loop leaves it early.
  let sourceError: { error: unknown } | undefined;
  source.on('error', (error) => {
    if (error.name !== 'AbortError') sourceError ??= { error };
  });
  // Once the upload has been given up, the source must not throw an unhandled 'error'.
  const releaseSource = (): void => {
    if (source.readableEnded || source.destroyed) return;
    source.on('error', () => {});
    source.destroy();
  };

  let upload: { id: string };
  try {
    upload = await api.create();
  } catch (error) {
    releaseSource();
    throw (sourceError ?? { error }).error;
  }

  const stop = new AbortController();
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown): void => {
    if (failure) return;
    failure = { error };
    stop.abort(error);
    releaseSource();
  };
  const partIds: string[] = [];
  const sending = new Set<Promise<void>>();
  const spare: Buffer[] = [];
  const bufferBytes = Math.max(1, Math.min(partBytes, bytes));
  const send = (buffer: Buffer, length: number, index: number): void => {
    const sent: Promise<void> = api
      .addPart(upload.id, buffer.subarray(0, length), stop.signal)
      .then(
        (part) => {
          partIds[index] = part.id;
          spare.push(buffer);
        },
        // A failed part's buffer is not reused: an aborted request may still be reading it.
        fail,
      )
      .finally(() => sending.delete(sent));
    sending.add(sent);
  };

  const md5 = createHash('md5');
  let received = 0;
  let parts = 0;
  let buffer: Buffer | undefined;
  let filled = 0;
  try {
    reading: for await (const chunk of source) {
      let data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      received += data.byteLength;
      if (received > bytes) throw new UploadSizeMismatch(bytes, received);
      md5.update(data);
      while (data.byteLength > 0) {
        buffer ??= spare.pop() ?? Buffer.allocUnsafe(bufferBytes);
        const copied = data.copy(buffer, filled);
        filled += copied;
        data = data.subarray(copied);
        if (filled < partBytes) continue;
        send(buffer, filled, parts++);
        buffer = undefined;
        filled = 0;
        // Not reading is what pauses the client: its bytes wait in the socket meanwhile.
        while (sending.size >= partsInFlight && !failure) await Promise.race(sending);
        if (failure) break reading;
      }
      if (failure) break;
    }
    if (!failure && received !== bytes) throw new UploadSizeMismatch(bytes, received);
    if (!failure && buffer && filled > 0) send(buffer, filled, parts++);
  } catch (error) {
    fail(error);
  }
  await Promise.all(sending);

  if (!failure) {
    try {
      return await api.complete(upload.id, partIds, md5.digest('hex'));
    } catch (error) {
      failure = { error };
    }
  }
  // Best effort: an upload left pending expires within the hour, and never becomes a File.
  await api.cancel(upload.id).catch(() => {});
  throw (sourceError ?? failure).error;
}
