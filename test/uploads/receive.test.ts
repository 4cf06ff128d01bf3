import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import busboy from 'busboy';
import type { FileUpload } from 'graphql-upload-minimal';
import { describe, expect, it } from 'vitest';
import { UploadProblem } from '../../src/uploads/problems.ts';
import { discardUploads, type ReceivedFile, receiveUpload } from '../../src/uploads/receive.ts';

/** An `Upload` value as graphql-upload-minimal resolves it, over the given part. */
function uploadOf(part: Readable, filename = 'f.txt'): Promise<FileUpload> {
  return Promise.resolve({
    fieldName: '0',
    filename,
    mimetype: 'text/plain',
    encoding: '7bit',
    createReadStream: () => part as never,
  });
}

async function received(part: Readable, maxBytes: number): Promise<ReceivedFile> {
  const file = await receiveUpload(uploadOf(part), maxBytes);
  if ('problem' in file) throw file.problem;
  return file;
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A busboy file stream over `size` bytes, with busboy's limit at `fileSize`. */
async function busboyPart(size: number, fileSize: number): Promise<Readable> {
  const boundary = 'testboundary';
  const parser = busboy({
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    limits: { fileSize },
  });
  const part = new Promise<Readable>((resolve) => parser.on('file', (_name, stream) => resolve(stream)));
  parser.end(
    `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\n\r\n${'x'.repeat(size)}\r\n--${boundary}--\r\n`,
  );
  return part;
}

describe('receiving a file of a multipart request', () => {
  it('passes a file of exactly the limit through whole', async () => {
    const file = await received(Readable.from([Buffer.alloc(600), Buffer.alloc(400)]), 1000);
    expect((await readAll(file.body)).byteLength).toBe(1000);
  });

  it('fails the body with FILE_TOO_LARGE one byte past the limit, and drains the part', async () => {
    const part = Readable.from([Buffer.alloc(600), Buffer.alloc(401)]);
    const file = await received(part, 1000);
    await expect(readAll(file.body)).rejects.toMatchObject({ code: 'FILE_TOO_LARGE' });
    await nextTurn();
    expect(part.readableEnded || part.readableFlowing).toBe(true);
  });

  it('fails the body with FILE_TOO_LARGE when busboy truncated the part at its own limit', async () => {
    // The parser's limit is a byte above the gateway's, as parse.ts sets it.
    const file = await received(await busboyPart(5000, 1001), 1000);
    await expect(readAll(file.body)).rejects.toBeInstanceOf(UploadProblem);
  });

  it("tells a client gone (graphql-upload-minimal's 499) from a part cut short", async () => {
    const gone = new Readable({ read() {} });
    const cut = new Readable({ read() {} });
    const [a, b] = [await received(gone, 100), await received(cut, 100)];
    gone.destroy(
      Object.assign(new Error('Request disconnected during file upload stream parsing.'), { status: 499 }),
    );
    cut.destroy(new Error('Unexpected end of form'));
    await expect(readAll(a.body)).rejects.toMatchObject({ code: 'REQUEST_CANCELLED' });
    await expect(readAll(b.body)).rejects.toMatchObject({ code: 'UPLOAD_INCOMPLETE' });
  });

  it('drains the part, never destroying it, when the reader gives up on the body', async () => {
    const part = Readable.from(Array.from({ length: 50 }, () => Buffer.alloc(1000)));
    const file = await received(part, 1_000_000);
    file.body.destroy();
    // A destroyed stream never ends: this one is read to its end.
    await new Promise((resolve) => part.once('end', resolve));
    expect(part.readableEnded).toBe(true);
  });

  it('takes an upload once: a second use is UPLOAD_REUSED, with the name it came with', async () => {
    const upload = uploadOf(Readable.from(['x']), 'twice.txt');
    const first = await receiveUpload(upload, 10);
    const second = await receiveUpload(upload, 10);
    expect('body' in first).toBe(true);
    expect(second).toMatchObject({ filename: 'twice.txt', problem: { code: 'UPLOAD_REUSED' } });
  });

  it('drains the files a mutation will not stream, and refuses to give them out afterwards', async () => {
    const part = Readable.from(Array.from({ length: 10 }, () => Buffer.alloc(1000)));
    const upload = uploadOf(part);
    discardUploads([upload, Promise.reject(new Error('never arrived'))]);
    await new Promise((resolve) => part.once('end', resolve));
    expect(await receiveUpload(upload, 10)).toMatchObject({ problem: { code: 'UPLOAD_REUSED' } });
  });
});
