/**
 * Upstream.uploadFileInParts against the emulator on a real port, through the real SDK: the calls
 * it makes, what it leaves upstream when it cannot finish, and how much of its source it reads
 * ahead of what upstream has taken.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';
import {
  createUpstreamClient,
  defaultUpstreamPolicy,
  partedUploadCalls,
  UploadSizeMismatch,
  Upstream,
  UpstreamBudget,
  type UpstreamCall,
  UpstreamError,
  type UpstreamPolicy,
} from '../../src/upstream/index.ts';

const KEY = 'sk-test-parted-0123456789';
const PART = 1000;
const ROUTES = {
  create: 'POST /v1/uploads',
  part: 'POST /v1/uploads/{upload_id}/parts',
  complete: 'POST /v1/uploads/{upload_id}/complete',
  cancel: 'POST /v1/uploads/{upload_id}/cancel',
};

const open: Emulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((emulator) => emulator.close()));
});

async function setup(
  options: {
    emulator?: EmulatorOptions;
    policy?: Partial<UpstreamPolicy>;
    signal?: AbortSignal;
    budget?: number;
  } = {},
) {
  const emulator = createEmulator({ recordRequests: true, ...options.emulator });
  open.push(emulator);
  const { baseURL } = await emulator.listen({ port: 0 });
  const policy = { ...defaultUpstreamPolicy, readRetries: 0, ...options.policy };
  const client = createUpstreamClient({ apiKey: KEY, baseURL }, policy);
  const calls: UpstreamCall[] = [];
  const budget = new UpstreamBudget();
  if (options.budget !== undefined) budget.setLimit(options.budget);
  const upstream = new Upstream(client, policy, {
    signal: options.signal,
    budget,
    onCall: (call) => calls.push(call),
  });
  return { emulator, upstream, calls, client };
}

/** `total` bytes in chunks of `chunk`, each a different byte, `delayMs` apart; counts what was read. */
function source(total: number, options: { chunk?: number; delayMs?: number; failAt?: number } = {}) {
  const chunk = options.chunk ?? 300;
  const state = { pulled: 0 };
  let sent = 0;
  const stream = new Readable({
    highWaterMark: chunk,
    read() {
      if (options.failAt !== undefined && sent >= options.failAt) {
        this.destroy(new Error('the client went away'));
        return;
      }
      if (sent >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(chunk, total - sent);
      const bytes = Buffer.alloc(size, 97 + ((sent / chunk) % 26));
      sent += size;
      state.pulled = sent;
      if (options.delayMs) setTimeout(() => this.push(bytes), options.delayMs);
      else this.push(bytes);
    },
  });
  return { stream, state };
}

function expected(total: number, chunk = 300): Buffer {
  const out = Buffer.alloc(total);
  for (let at = 0; at < total; at += chunk)
    out.fill(97 + ((at / chunk) % 26), at, Math.min(total, at + chunk));
  return out;
}

function routes(emulator: Emulator) {
  const { byRoute } = emulator.stats();
  return Object.fromEntries(Object.entries(ROUTES).map(([name, route]) => [name, byRoute[route] ?? 0]));
}

describe('uploadFileInParts', () => {
  it('creates, sends the parts, and completes them in order with the md5 of the whole file', async () => {
    const { emulator, upstream, calls, client } = await setup();
    const total = 2500;
    const { stream } = source(total);
    const file = await upstream.uploadFileInParts(
      { body: stream, filename: 'big\n.jsonl', mimetype: 'application/jsonl' },
      { purpose: 'user_data', bytes: total, expiresAfterSeconds: 7200, partBytes: PART },
    );

    expect(file).toMatchObject({ bytes: total, purpose: 'user_data', filename: 'big_.jsonl' });
    expect(file.expires_at).toBe(file.created_at + 7200);
    expect(routes(emulator)).toEqual({ create: 1, part: 3, complete: 1, cancel: 0 });
    const requests = emulator.stats().requests;
    expect(requests.find((r) => r.route === ROUTES.create)?.body).toEqual({
      filename: 'big_.jsonl',
      purpose: 'user_data',
      bytes: total,
      mime_type: 'application/jsonl',
      expires_after: { anchor: 'created_at', seconds: 7200 },
    });
    const completion = requests.find((r) => r.route === ROUTES.complete)?.body as {
      part_ids: string[];
      md5: string;
    };
    expect(completion.part_ids).toHaveLength(3);
    expect(completion.md5).toBe(createHash('md5').update(expected(total)).digest('hex'));
    const content = Buffer.from(await (await client.sdk.files.content(file.id)).arrayBuffer());
    expect(content.equals(expected(total))).toBe(true);
    expect(emulator.inspect()).toMatchObject({ openUploads: 0, files: 1, storedBytes: total });
    expect(calls.map((call) => [call.operation, call.outcome])).toEqual([
      ['uploads.create', 'ok'],
      ['uploads.parts.create', 'ok'],
      ['uploads.parts.create', 'ok'],
      ['uploads.parts.create', 'ok'],
      ['uploads.complete', 'ok'],
    ]);
    expect(calls.length).toBeLessThanOrEqual(partedUploadCalls(total, PART));
  });

  it('reads no further ahead than the parts in flight while upstream is slow to take them', async () => {
    const { emulator, upstream } = await setup();
    emulator.setFaults({ routes: { [ROUTES.part]: { latencyMs: 300 } } });
    const total = 10 * PART;
    const { stream, state } = source(total, { chunk: 100 });
    const done = upstream.uploadFileInParts(
      { body: stream, filename: 'slow.bin' },
      { purpose: 'assistants', bytes: total, partBytes: PART },
    );
    await sleep(200);
    // 3 parts sent, the 4th being filled, and what the stream itself buffers (a chunk or two).
    expect(state.pulled).toBeGreaterThanOrEqual(3 * PART);
    expect(state.pulled).toBeLessThanOrEqual(4 * PART + 200);
    expect((await done).bytes).toBe(total);
    expect(emulator.stats().maxInFlight[KEY.slice(-8)]).toBeLessThanOrEqual(3);
  });

  it('cancels the upload and rejects with the stream’s own error when the source fails', async () => {
    const { emulator, upstream, calls } = await setup();
    const { stream } = source(5000, { failAt: 2200 });
    const upload = upstream.uploadFileInParts(
      { body: stream, filename: 'cut.bin' },
      { purpose: 'assistants', bytes: 5000, partBytes: PART },
    );
    await expect(upload).rejects.toThrow('the client went away');
    expect(routes(emulator)).toMatchObject({ create: 1, complete: 0, cancel: 1 });
    expect(emulator.inspect()).toMatchObject({ openUploads: 0, files: 0, storedBytes: 0 });
    expect(calls.at(-1)).toMatchObject({ operation: 'uploads.cancel', outcome: 'ok' });
  });

  it('refuses a file shorter or longer than declared, and leaves nothing upstream', async () => {
    const { emulator, upstream } = await setup();
    for (const [declared, actual] of [
      [3000, 2500],
      [2000, 2500],
    ] as const) {
      const { stream } = source(actual);
      const error = await upstream
        .uploadFileInParts(
          { body: stream, filename: 'size.bin' },
          { purpose: 'assistants', bytes: declared, partBytes: PART },
        )
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UploadSizeMismatch);
      expect(error).toMatchObject({ code: 'UPLOAD_SIZE_MISMATCH', declared });
    }
    expect(routes(emulator)).toMatchObject({ create: 2, complete: 0, cancel: 2 });
    expect(emulator.inspect()).toMatchObject({ openUploads: 0, files: 0, storedBytes: 0 });
  });

  it('cancels when a part fails, and reports the part’s failure', async () => {
    const { emulator, upstream, calls } = await setup();
    emulator.setFaults({ routes: { [ROUTES.part]: { errorRate: 1, errorStatus: 503 } } });
    const { stream } = source(2500);
    const error = await upstream
      .uploadFileInParts(
        { body: stream, filename: 'a.bin' },
        { purpose: 'assistants', bytes: 2500, partBytes: PART },
      )
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(routes(emulator)).toMatchObject({ create: 1, complete: 0, cancel: 1 });
    expect(emulator.inspect()).toMatchObject({ openUploads: 0, storedBytes: 0 });
    expect(calls.length).toBeLessThanOrEqual(partedUploadCalls(2500, PART));
  });

  it('finds the File of a completion whose answer was lost', async () => {
    const { emulator, upstream, calls } = await setup({ policy: { callTimeoutMs: 400 } });
    emulator.setFaults({ routes: { [ROUTES.complete]: { stall: 'body' } } });
    const { stream } = source(1500);
    const file = await upstream.uploadFileInParts(
      { body: stream, filename: 'lost.bin' },
      { purpose: 'assistants', bytes: 1500, partBytes: PART },
    );
    expect(file).toMatchObject({ filename: 'lost.bin', bytes: 1500 });
    expect(calls.map((call) => [call.operation, call.outcome]).slice(-2)).toEqual([
      ['uploads.complete', 'UPSTREAM_TIMEOUT'],
      ['files.list', 'ok'],
    ]);
    expect(calls.length).toBeLessThanOrEqual(partedUploadCalls(1500, PART));
    expect(emulator.inspect()).toMatchObject({ openUploads: 0, files: 1 });
  });

  it('never leaves an upload open when the scope is cancelled mid-file', async () => {
    const scope = new AbortController();
    const { emulator, upstream } = await setup({ signal: scope.signal });
    emulator.setFaults({ routes: { [ROUTES.part]: { latencyMs: 200 } } });
    const { stream } = source(10 * PART, { chunk: 200, delayMs: 5 });
    const upload = upstream.uploadFileInParts(
      { body: stream, filename: 'gone.bin' },
      { purpose: 'assistants', bytes: 10 * PART, partBytes: PART },
    );
    await sleep(100);
    scope.abort();
    await expect(upload).rejects.toMatchObject({ code: 'REQUEST_CANCELLED' });
    expect(routes(emulator)).toMatchObject({ create: 1, complete: 0, cancel: 1 });
    await sleep(300);
    expect(emulator.inspect()).toMatchObject({ openUploads: 0, files: 0, storedBytes: 0 });
  });

  it('makes no call past its budget, and the price of the upload fits every path', async () => {
    const { emulator, upstream } = await setup({ budget: partedUploadCalls(2500, PART) - 2 });
    const { stream } = source(2500);
    await upstream.uploadFileInParts(
      { body: stream, filename: 'exact.bin' },
      { purpose: 'assistants', bytes: 2500, partBytes: PART },
    );
    // create + 3 parts + complete: the look and the cancel were not needed.
    expect(emulator.stats().total).toBe(5);

    const short = await setup({ budget: 3 });
    const error = await short.upstream
      .uploadFileInParts(
        { body: source(2500).stream, filename: 'over.bin' },
        { purpose: 'assistants', bytes: 2500, partBytes: PART },
      )
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'OVER_BUDGET' });
    // The third call (a part) was refused, and the parts already sent were cut; the cancel
    // could not be paid for either, so the upload stays pending until it expires (with no File):
    // why the price includes the cancel.
    expect(short.emulator.stats().total).toBeLessThanOrEqual(3);
    expect(short.emulator.inspect()).toMatchObject({ openUploads: 1, files: 0 });
  });
});
