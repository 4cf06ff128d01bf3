/**
 * The SDK's HTTP transport when a credential brings none. The SDK's JSON calls (a string body or
 * none: every read, every JSON write) go through undici's `request`, which spends about a quarter
 * less CPU per call than the platform's `fetch` (0.46-0.51 against 0.62-0.69 ms a call, medians of
 * paired runs of 16 concurrent retrieves against the emulator), the largest share of a gateway
 * request's own CPU after the sockets. Anything else (the FormData of upload parts, streams) goes
 * through `fetch`, whose body encodings `request` does not take.
 *
 * What the SDK gets back is what `fetch` would give it: a Response, redirects followed, a
 * connection failure as `TypeError('fetch failed')` with the cause, an abort as the signal's
 * reason. A JSON answer is read whole before it is handed over (the SDK parses it whole anyway);
 * any other body (a File's content) is streamed. Unlike `fetch`, `request` asks for no
 * compression (the SDK sets no Accept-Encoding), so answers come as they are: more bytes from a
 * remote upstream for its small JSON documents, no inflating here.
 */
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Dispatcher } from 'undici';

/** As many redirects as the upstream may chain; fetch allows 20, no OpenAI route answers one. */
const MAX_REDIRECTIONS = 5;

/** Statuses whose Response may not have a body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

let dispatcher: Promise<{ request: typeof import('undici').request; agent: Dispatcher }> | undefined;

/** undici, loaded on the first call: one pool of connections per upstream origin, process-wide. */
function undici() {
  dispatcher ??= import('undici').then(({ Agent, interceptors, request }) => ({
    request,
    agent: new Agent().compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTIONS })),
  }));
  return dispatcher;
}

export const upstreamFetch: typeof fetch = async (input, init) => {
  const body = init?.body;
  if (typeof input !== 'string' || (body != null && typeof body !== 'string')) {
    return globalThis.fetch(input, init);
  }
  const { request, agent } = await undici();
  const signal = init?.signal ?? undefined;
  let answer: Dispatcher.ResponseData;
  try {
    answer = await request(input, {
      method: (init?.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: headersOf(init?.headers),
      body: body ?? null,
      signal,
      dispatcher: agent,
    });
  } catch (error) {
    throw failure(error, signal);
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  const answerInit = { status: answer.statusCode, statusText: answer.statusText, headers };
  if (NULL_BODY_STATUSES.has(answer.statusCode)) {
    answer.body.resume();
    return new Response(null, answerInit);
  }
  if (!/\bjson\b/i.test(headers.get('content-type') ?? '')) {
    return new Response(Readable.toWeb(answer.body) as ReadableStream<Uint8Array>, answerInit);
  }
  let bytes: Buffer;
  try {
    bytes = Buffer.from(await answer.body.arrayBuffer());
  } catch (error) {
    throw failure(error, signal);
  }
  // What follows an answer (the rest of its operation, the reply to its client) runs without a
  // break, all in microtasks. Waiting one turn of the event loop first lets requests that are
  // ready meanwhile send their own upstream calls, so those calls' latency overlaps this work
  // instead of following it. Paired runs, 16 connections, +50 ms upstream: p50 61.5 to 57.5 ms
  // (the direct SDK path: 54); 64 connections: 580 to 647 requests/s; none worse at +0 ms.
  await nextTurn();
  return new BufferedResponse(bytes, answerInit);
};

/**
 * A JSON answer read whole: a Response whose readers take the bytes at hand. A Response built
 * around them would wrap them in a web ReadableStream only for the SDK to read them back out of
 * it, which showed in the gateway's profile (the stream, and the Response's body extraction).
 * Whoever asks for `body` (the SDK cancels it before a retry) gets a stream of the same bytes.
 */
class BufferedResponse extends Response {
  #bytes: Buffer | null;
  #stream: ReadableStream<Uint8Array<ArrayBuffer>> | null = null;

  constructor(bytes: Buffer, init: ResponseInit) {
    super(null, init);
    this.#bytes = bytes;
  }

  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    if (this.#bytes !== null) {
      this.#stream = new Response(new Uint8Array(this.#bytes)).body;
      this.#bytes = null;
    }
    return this.#stream;
  }

  override get bodyUsed(): boolean {
    return this.#bytes === null && (this.#stream === null || this.#stream.locked);
  }

  override async text(): Promise<string> {
    return this.#stream ? new Response(this.#stream).text() : this.#take().toString('utf8');
  }

  override async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#stream) return new Response(this.#stream).arrayBuffer();
    const bytes = this.#take();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  override clone(): Response {
    if (this.#stream || this.#bytes === null) return super.clone();
    return new BufferedResponse(Buffer.from(this.#bytes), this);
  }

  #take(): Buffer {
    const bytes = this.#bytes;
    if (bytes === null) throw new TypeError('Body is unusable: Body has already been read');
    this.#bytes = null;
    return bytes;
  }
}

/** What `fetch` rejects with: the abort's reason, or a TypeError carrying the network error. */
function failure(error: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason ?? error;
  return new TypeError('fetch failed', { cause: error });
}

function headersOf(headers: HeadersInit | undefined): Record<string, string> {
  const plain: Record<string, string> = {};
  if (headers) {
    new Headers(headers).forEach((value, name) => {
      plain[name] = value;
    });
  }
  return plain;
}
