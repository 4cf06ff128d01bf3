import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * A received file kept on local disk, for the few decisions that need all of it before a byte
 * goes upstream (is it a duplicate of a file already stored?). Disk, not memory: a file may be
 * 512 MB. Whoever spools a file disposes of it, uploaded or not.
 */
export interface SpooledFile {
  bytes: number;
  /** Hex SHA-256 of the content. */
  sha256: string;
  /** A fresh stream of the content, for the upload. */
  open(): Readable;
  /** Removes it from disk; safe to call more than once. */
  dispose(): Promise<void>;
}

/**
 * Reads `body` to its end into a temporary file, hashing it on the way. When the body fails (a
 * size limit, a client gone), nothing is left on disk and its error is what this rejects with.
 */
export async function spool(body: Readable): Promise<SpooledFile> {
  const dir = await mkdtemp(join(tmpdir(), 'vector-store-gateway-'));
  const path = join(dir, 'upload');
  const dispose = () => rm(dir, { recursive: true, force: true });
  const hash = createHash('sha256');
  let bytes = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.byteLength;
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, measure, createWriteStream(path));
  } catch (error) {
    await dispose();
    throw error;
  }
  return { bytes, sha256: hash.digest('hex'), open: () => createReadStream(path), dispose };
}
