/** Multipart uploads: streaming, filenames, aborted and oversized bodies. */

import { Agent, request } from 'node:http';
import { Readable } from 'node:stream';
import { toStreamingFile } from 'openai';
import { describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.ts';
import { ManualClock } from '../support/clock.ts';
import { listenEmulator } from './helpers.ts';

const BOUNDARY = 'test-boundary-7d1f';

function multipartHead(disposition: string): string {
  return [
    `--${BOUNDARY}`,
    'Content-Disposition: form-data; name="purpose"',
    '',
    'assistants',
    `--${BOUNDARY}`,
    `Content-Disposition: form-data; name="file"; ${disposition}`,
    'Content-Type: application/octet-stream',
    '',
    '',
  ].join('\r\n');
}

const multipartTail = `\r\n--${BOUNDARY}--\r\n`;

/** Sends a body in chunks with Transfer-Encoding: chunked (no Content-Length), as toStreamingFile does. */
function sendChunked(
  baseURL: string,
  chunks: Iterable<string | Buffer>,
  path = '/files',
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseURL}${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) }),
      );
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

describe('uploads', () => {
  it('accepts chunked bodies without Content-Length and a plain filename', async () => {
    const { baseURL, emulator } = await listenEmulator();
    const { status, body } = await sendChunked(baseURL, [
      multipartHead('filename="report.txt"'),
      'first half, ',
      'second half',
      multipartTail,
    ]);
    expect(status).toBe(200);
    expect(body).toMatchObject({ filename: 'report.txt', bytes: 23, purpose: 'assistants' });
    expect(emulator.inspect()).toMatchObject({ files: 1, storedBytes: 23 });
  });

  it('decodes RFC 5987 filename* and raw UTF-8 filenames', async () => {
    const { baseURL } = await listenEmulator();
    const extended = await sendChunked(baseURL, [
      multipartHead(`filename="fallback.txt"; filename*=UTF-8''${encodeURIComponent('你好 world.txt')}`),
      'x',
      multipartTail,
    ]);
    expect(extended.body.filename).toBe('你好 world.txt');
    const raw = await sendChunked(baseURL, [
      Buffer.from(multipartHead('filename="résumé.md"')),
      'x',
      multipartTail,
    ]);
    expect(raw.body.filename).toBe('résumé.md');
  });

  it('streams an SDK upload made with toStreamingFile', async () => {
    const { client, emulator } = await listenEmulator();
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const file = await client.files.create({
      file: toStreamingFile(Readable.from(Array.from({ length: 16 }, () => chunk)), 'big.txt', {
        type: 'text/plain',
      }),
      purpose: 'user_data',
    });
    expect(file).toMatchObject({ bytes: 16 * chunk.length, purpose: 'user_data', filename: 'big.txt' });
    expect(emulator.inspect().storedBytes).toBe(16 * chunk.length);
  });

  it('creates no File when the client aborts mid-body', async () => {
    const { baseURL, emulator } = await listenEmulator();
    const req = request(`${baseURL}/files`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    });
    req.on('error', () => {});
    req.write(multipartHead('filename="partial.txt"'));
    req.write(Buffer.alloc(32 * 1024, 'p'));
    await until(() => emulator.inspect().uploadsInFlight === 1);
    req.destroy();
    await until(() => emulator.inspect().uploadsInFlight === 0);
    expectEmpty(emulator);
    expect(emulator.stats().requests[0]).toMatchObject({ route: 'POST /v1/files', status: null });
  });

  it('creates no File when the multipart body ends before its closing boundary', async () => {
    const { baseURL, emulator } = await listenEmulator();
    const { status, body } = await sendChunked(baseURL, [
      multipartHead('filename="cut.txt"'),
      'no closing boundary',
    ]);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ type: 'invalid_request_error' });
    expect(emulator.inspect().files).toBe(0);
  });

  it('rejects an upload past maxStoredBytes with 413 and stores nothing', async () => {
    const { client, emulator } = await listenEmulator({ maxStoredBytes: 100 });
    await client.files.create({ file: new File(['x'.repeat(60)], 'a.txt'), purpose: 'assistants' });
    const error = await client.files
      .create({ file: new File(['y'.repeat(60)], 'b.txt'), purpose: 'assistants' })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 413, param: 'file' });
    expect((error as Error).message).toMatch(/Storage limit reached/);
    expect(emulator.inspect()).toMatchObject({ files: 1, storedBytes: 60 });

    // Deleting frees the space again.
    const [first] = (await client.files.list()).data;
    await client.files.delete(first!.id);
    await client.files.create({ file: new File(['y'.repeat(100)], 'b.txt'), purpose: 'assistants' });
    expect(emulator.inspect()).toMatchObject({ files: 1, storedBytes: 100 });
  });

  it('rejects a streamed upload past the cap while it streams, and stores nothing', async () => {
    const { baseURL, emulator } = await listenEmulator({ maxStoredBytes: 1000 });
    const big = Buffer.alloc(4096, 'z');
    const { status } = await sendChunked(baseURL, [
      multipartHead('filename="big.txt"'),
      big,
      big,
      multipartTail,
    ]);
    expect(status).toBe(413);
    expectEmpty(emulator);
  });

  it('names missing and invalid fields', async () => {
    const { api } = await listenEmulator();
    const noFile = new FormData();
    noFile.set('purpose', 'assistants');
    expect(await errorOf(api('/files', { method: 'POST', body: noFile }))).toMatchObject({
      param: 'file',
      code: 'missing_required_parameter',
    });
    const noPurpose = new FormData();
    noPurpose.set('file', new File(['x'], 'x.txt'));
    expect(await errorOf(api('/files', { method: 'POST', body: noPurpose }))).toMatchObject({
      param: 'purpose',
    });
    const badExpiry = new FormData();
    badExpiry.set('purpose', 'batch');
    badExpiry.set('expires_after[anchor]', 'created_at');
    badExpiry.set('expires_after[seconds]', '60');
    badExpiry.set('file', new File(['x'], 'x.jsonl'));
    expect(await errorOf(api('/files', { method: 'POST', body: badExpiry }))).toMatchObject({
      param: 'expires_after.seconds',
      code: 'integer_below_min_value',
    });
    expect(await errorOf(api('/files', { method: 'POST', json: { purpose: 'assistants' } }))).toMatchObject({
      message: expect.stringMatching(/expected multipart\/form-data/),
    });
  });

  it('honours expires_after on files and drops them once expired', async () => {
    const clock = new ManualClock();
    const { api, emulator } = await listenEmulator({ clock });
    const form = new FormData();
    form.set('purpose', 'assistants');
    form.set('expires_after[anchor]', 'created_at');
    form.set('expires_after[seconds]', '3600');
    form.set('file', new File(['x'], 'x.txt'));
    const file = (await (await api('/files', { method: 'POST', body: form })).json()) as {
      id: string;
      created_at: number;
      expires_at: number;
    };
    expect(file.expires_at).toBe(file.created_at + 3600);
    clock.advance(3_599_000);
    expect((await api(`/files/${file.id}`)).status).toBe(200);
    clock.advance(1000);
    expect((await api(`/files/${file.id}`)).status).toBe(404);
    expectEmpty(emulator);
  });
});

function expectEmpty(emulator: Emulator): void {
  expect(emulator.inspect()).toEqual({
    files: 0,
    vectorStores: 0,
    storedBytes: 0,
    uploadsInFlight: 0,
    openUploads: 0,
    uploadPartBytes: 0,
  });
}

async function errorOf(response: Promise<Response>): Promise<Record<string, unknown>> {
  const resolved = await response;
  expect(resolved.status).toBe(400);
  return ((await resolved.json()) as { error: Record<string, unknown> }).error;
}

/** A multipart head for an upload part: field `data`, sent as a file as the SDK does. */
const partHead = [
  `--${BOUNDARY}`,
  'Content-Disposition: form-data; name="data"; filename="data"',
  'Content-Type: application/octet-stream',
  '',
  '',
].join('\r\n');

describe('upload parts (/v1/uploads)', () => {
  it('streams a part sent by the SDK with toStreamingFile, and completes it into a File', async () => {
    const { client, emulator } = await listenEmulator();
    const chunk = Buffer.alloc(256 * 1024, 'u');
    const upload = await client.uploads.create({
      bytes: 16 * chunk.length + 3,
      filename: 'big.jsonl',
      mime_type: 'text/jsonl',
      purpose: 'batch',
    });
    const big = await client.uploads.parts.create(upload.id, {
      data: toStreamingFile(Readable.from(Array.from({ length: 16 }, () => chunk)), 'data'),
    });
    const tail = await client.uploads.parts.create(upload.id, { data: new File(['end'], 'data') });
    expect(emulator.inspect()).toMatchObject({ openUploads: 1, uploadPartBytes: 16 * chunk.length + 3 });
    const done = await client.uploads.complete(upload.id, { part_ids: [big.id, tail.id] });
    const content = Buffer.from(await (await client.files.content(done.file!.id)).arrayBuffer());
    expect(content.length).toBe(16 * chunk.length + 3);
    expect(content.subarray(-4).toString()).toBe('uend');
    expect(emulator.inspect()).toMatchObject({ files: 1, storedBytes: content.length, uploadPartBytes: 0 });
  });

  it('refuses a part over 64 MB while it streams in, and keeps nothing of it', async () => {
    const { baseURL, client, emulator } = await listenEmulator({ maxStoredBytes: 1024 ** 3 });
    const upload = await client.uploads.create({
      bytes: 1,
      filename: 'a.bin',
      mime_type: 'application/octet-stream',
      purpose: 'assistants',
    });
    const mb = Buffer.alloc(1024 * 1024, 'p');
    function* body() {
      yield partHead;
      for (let i = 0; i < 64; i += 1) yield mb;
      yield 'x';
      yield multipartTail;
    }
    const { status, body: answer } = await sendChunked(baseURL, body(), `/uploads/${upload.id}/parts`);
    expect(status).toBe(413);
    expect(answer.error).toMatchObject({ param: 'data', code: 'payload_too_large' });
    expect(emulator.inspect()).toMatchObject({
      storedBytes: 0,
      uploadPartBytes: 0,
      uploadsInFlight: 0,
      openUploads: 1,
    });
  });

  it('keeps no part when the client aborts mid-part', async () => {
    const { baseURL, client, emulator } = await listenEmulator();
    const upload = await client.uploads.create({
      bytes: 1,
      filename: 'a.bin',
      mime_type: 'application/octet-stream',
      purpose: 'assistants',
    });
    const req = request(`${baseURL}/uploads/${upload.id}/parts`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    });
    req.on('error', () => {});
    req.write(partHead);
    req.write(Buffer.alloc(32 * 1024, 'p'));
    await until(() => emulator.inspect().uploadsInFlight === 1);
    req.destroy();
    await until(() => emulator.inspect().uploadsInFlight === 0);
    expect(emulator.inspect()).toMatchObject({ storedBytes: 0, uploadPartBytes: 0, openUploads: 1 });
    expect(emulator.stats().requests.at(-1)).toMatchObject({
      route: 'POST /v1/uploads/{upload_id}/parts',
      status: null,
    });
  });

  it('drains the body of a part refused before reading it, so the connection serves the next request', async () => {
    const { baseURL, emulator } = await listenEmulator();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (path: string, chunks: Array<string | Buffer>) =>
      new Promise<{ status: number; reused: boolean; body: string }>((resolve, reject) => {
        const req = request(`${baseURL}${path}`, {
          method: 'POST',
          agent,
          headers: { authorization: 'Bearer k', 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (part: Buffer) => {
            body += part.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, body }));
        });
        req.on('error', reject);
        for (const chunk of chunks) req.write(chunk);
        req.end();
      });
    try {
      const big = Buffer.alloc(4 * 1024 * 1024, 'q');
      const refused = await send('/uploads/upload_missing/parts', [partHead, big, multipartTail]);
      expect(refused.status).toBe(404);
      expect(JSON.parse(refused.body)).toMatchObject({
        error: { message: 'No such Upload object: upload_missing' },
      });
      const next = await send('/uploads/upload_missing/cancel', []);
      expect(next).toMatchObject({ status: 404, reused: true });
      expect(emulator.inspect()).toMatchObject({ storedBytes: 0, uploadsInFlight: 0 });
    } finally {
      agent.destroy();
    }
  });
});
