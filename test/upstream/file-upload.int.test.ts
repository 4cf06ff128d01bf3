import { createServer } from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIUserAbortError,
  AuthenticationError,
  InternalServerError,
  RateLimitError,
} from 'openai';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';
import {
  contentDispositionForFile,
  type UploadTarget,
  uploadFileStream,
} from '../../src/upstream/file-upload.ts';

const KEY = 'sk-test-0123456789abcdef';
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((fn) => fn()));
});

async function startEmulator(
  options: EmulatorOptions = {},
): Promise<{ emu: Emulator; target: UploadTarget }> {
  const emu = createEmulator(options);
  cleanups.push(() => emu.close());
  const { baseURL } = await emu.listen({ port: 0 });
  return { emu, target: { baseURL, apiKey: options.apiKeys?.[0] ?? KEY } };
}

async function waitFor(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

function uploadAttempts(emu: Emulator) {
  return emu.stats().requests.filter((r) => r.route === 'POST /v1/files');
}

/** The emulator saw the upload start and never answered it: the body ended without its closing boundary. */
async function expectAbortedUpload(emu: Emulator): Promise<void> {
  await waitFor(() => emu.inspect().uploadsInFlight === 0 && uploadAttempts(emu).length === 1);
  expect(uploadAttempts(emu)).toEqual([expect.objectContaining({ status: null })]);
  expect(emu.inspect()).toMatchObject({ files: 0, storedBytes: 0 });
}

async function fileContent(target: UploadTarget, id: string): Promise<Buffer> {
  const res = await fetch(`${target.baseURL}/files/${id}/content`, {
    headers: { authorization: `Bearer ${target.apiKey}` },
  });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** A source that yields `chunks` chunks of `size` bytes, `delayMs` apart, and records whether it was destroyed. */
function slowSource(chunks: number, size: number, delayMs: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= chunks) {
        this.push(null);
        return;
      }
      sent += 1;
      setTimeout(() => {
        if (!this.destroyed) this.push(Buffer.alloc(size, 0x61));
      }, delayMs);
    },
  });
}

describe('uploadFileStream against the emulator', () => {
  it('uploads a small text file; the File object and content round-trip', async () => {
    const { emu, target } = await startEmulator();
    const text = 'hello, vector store\n'.repeat(50);
    const file = await uploadFileStream(
      target,
      {
        body: Readable.from([Buffer.from(text.slice(0, 7)), Buffer.from(text.slice(7))]),
        filename: 'notes.txt',
        mimetype: 'text/plain',
      },
      { purpose: 'user_data', expiresAfterSeconds: 3600 },
    );
    expect(file).toMatchObject({
      object: 'file',
      filename: 'notes.txt',
      bytes: Buffer.byteLength(text),
      purpose: 'user_data',
    });
    expect(file.id).toMatch(/^file-/);
    expect(file.expires_at).toBe(file.created_at + 3600);
    expect((file as { _request_id?: unknown })._request_id).toMatch(/^req_/);
    expect((await fileContent(target, file.id)).toString('utf8')).toBe(text);
    expect(uploadAttempts(emu)).toEqual([expect.objectContaining({ status: 200 })]);
  });

  it('keeps non-ASCII filenames and quotes intact', async () => {
    const { target } = await startEmulator();
    // No backslash here: busboy (and so the emulator) treats it as a path separator and keeps the basename.
    const filename = '你好 "résumé" 100%.md';
    const bytes = Buffer.from('# 标题\n', 'utf8');
    const file = await uploadFileStream(
      target,
      { body: Readable.from([bytes]), filename },
      { purpose: 'assistants' },
    );
    expect(file.filename).toBe(filename);
    expect(file.purpose).toBe('assistants');
    expect(await fileContent(target, file.id)).toEqual(bytes);
  });

  it('sends auth, organization, project and default headers through the given dispatcher', async () => {
    const { target } = await startEmulator();
    const seen: unknown[] = [];
    const agent = new Agent();
    cleanups.push(() => agent.close());
    const dispatcher = agent.compose((dispatch) => (opts, handler) => {
      seen.push(opts.headers);
      return dispatch(opts, handler);
    });
    await uploadFileStream(
      {
        ...target,
        organization: 'org-1',
        project: 'proj-1',
        defaultHeaders: { 'X-Trace': 'abc', 'Content-Type': 'text/plain', Authorization: 'Bearer other' },
        dispatcher,
      },
      { body: Readable.from([Buffer.from('x')]), filename: 'h.txt' },
      { purpose: 'assistants' },
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      authorization: `Bearer ${KEY}`,
      'openai-organization': 'org-1',
      'openai-project': 'proj-1',
      'x-trace': 'abc',
      'content-type': expect.stringMatching(/^multipart\/form-data; boundary=/),
    });
  });

  it('passes on a source error midway and leaves nothing stored', async () => {
    const { emu, target } = await startEmulator();
    const source = slowSource(100, 1024, 5);
    setTimeout(
      () => source.destroy(new Error('Request disconnected during file upload stream parsing.')),
      60,
    );
    await expect(
      uploadFileStream(target, { body: source, filename: 'a.txt' }, { purpose: 'assistants' }),
    ).rejects.toThrow('Request disconnected during file upload stream parsing.');
    await expectAbortedUpload(emu);
  });

  it('aborts quickly on signal abort with a slow source', async () => {
    const { emu, target } = await startEmulator();
    const source = slowSource(1000, 16, 200);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const error = await uploadFileStream(
      target,
      { body: source, filename: 'slow.txt' },
      { purpose: 'assistants', signal: controller.signal },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(source.destroyed).toBe(true);
    await expectAbortedUpload(emu);
  });

  it('rejects at once when the signal is already aborted, without connecting', async () => {
    const { emu, target } = await startEmulator();
    const source = slowSource(1, 1, 1);
    await expect(
      uploadFileStream(
        target,
        { body: source, filename: 'a' },
        { purpose: 'assistants', signal: AbortSignal.abort() },
      ),
    ).rejects.toBeInstanceOf(APIUserAbortError);
    expect(source.destroyed).toBe(true);
    expect(emu.stats().total).toBe(0);
  });

  it('maps an upstream 500 to InternalServerError, with exactly one attempt', async () => {
    const { emu, target } = await startEmulator();
    emu.setFaults({ routes: { 'POST /v1/files': { errorRate: 1, errorStatus: 500 } } });
    const error = await uploadFileStream(
      target,
      { body: Readable.from([Buffer.from('data')]), filename: 'a.txt' },
      { purpose: 'assistants' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 500 });
    expect((error as InternalServerError).requestID).toMatch(/^req_/);
    expect(emu.stats().byRoute['POST /v1/files']).toBe(1);
    expect(emu.inspect().files).toBe(0);
  });

  it('maps an upstream 429 to RateLimitError with its Retry-After header, with exactly one attempt', async () => {
    const { emu, target } = await startEmulator();
    emu.setFaults({ routes: { 'POST /v1/files': { rateLimitRate: 1, retryAfterSeconds: 7 } } });
    // A body large enough that the emulator answers before reading all of it.
    const source = slowSource(64, 64 * 1024, 0);
    const error = await uploadFileStream(
      target,
      { body: source, filename: 'a.txt' },
      { purpose: 'assistants' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429 });
    expect((error as RateLimitError).headers.get('retry-after')).toBe('7');
    expect(emu.stats().byRoute['POST /v1/files']).toBe(1);
    await waitFor(() => source.destroyed || source.readableEnded);
    expect(emu.inspect().files).toBe(0);
  });

  it('maps a rejected key to AuthenticationError without the key in the message', async () => {
    const { emu, target } = await startEmulator({ apiKeys: ['right'] });
    const wrongKey = 'sk-wrong-key-abcdefghijklmnop';
    const error = await uploadFileStream(
      { ...target, apiKey: wrongKey, organization: 'org-1', project: 'proj-1' },
      { body: Readable.from([Buffer.from('data')]), filename: 'a.txt' },
      { purpose: 'assistants' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401 });
    expect(String((error as Error).message)).not.toContain(wrongKey);
    expect(emu.stats().byRoute['POST /v1/files']).toBe(1);
  });

  it('reports a stalled upstream as APIConnectionTimeoutError', async () => {
    const { emu, target } = await startEmulator();
    emu.setFaults({ routes: { 'POST /v1/files': { stall: 'headers' } } });
    const started = Date.now();
    await expect(
      uploadFileStream(
        target,
        { body: Readable.from([Buffer.from('x')]), filename: 'a' },
        { purpose: 'assistants', timeoutMs: 300 },
      ),
    ).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    // undici's timers are coarse (up to ~1 s late); the point is that it does not wait for the 300 s default.
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports a refused connection as APIConnectionError, never echoing the key', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await uploadFileStream(
      { baseURL: `http://127.0.0.1:${port}/v1`, apiKey: KEY },
      { body: Readable.from([Buffer.from('x')]), filename: 'a' },
      { purpose: 'assistants' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(KEY);
  });
});

describe('contentDispositionForFile', () => {
  it('escapes quotes and backslashes and adds filename* only for non-ASCII names', () => {
    expect(contentDispositionForFile('a "b" \\c.txt')).toBe(
      'form-data; name="file"; filename="a \\"b\\" \\\\c.txt"',
    );
    expect(contentDispositionForFile('é (1).txt')).toBe(
      `form-data; name="file"; filename="é (1).txt"; filename*=UTF-8''%C3%A9%20%281%29.txt`,
    );
  });

  it('cannot be used to inject header lines', () => {
    const header = contentDispositionForFile('x.txt"\r\nContent-Type: text/html\r\n\r\nboom');
    expect(header).not.toMatch(/[\r\n]/);
    expect(header).toBe('form-data; name="file"; filename="x.txt\\"__Content-Type: text/html____boom"');
  });

  it('survives a malformed UTF-16 name', () => {
    expect(contentDispositionForFile('a\uD800.txt')).toBe(
      `form-data; name="file"; filename="a\uFFFD.txt"; filename*=UTF-8''a%EF%BF%BD.txt`,
    );
  });
});
