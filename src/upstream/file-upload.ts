/**
 * Streams one file to OpenAI `POST /v1/files` without buffering it.
 *
 * The SDK's `files.create` + `toStreamingFile` goes through `fetch`, which on Node 20 keeps the
 * whole request body in memory (nodejs/undici#4058). This module is the one place that bypasses
 * the SDK: it hand-builds the multipart body and sends it with `undici.request`, which only pulls
 * the next chunk once the socket has accepted the previous one.
 *
 * Errors are the SDK's own classes so the gateway keeps a single error mapper.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type OpenAI from 'openai';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { Dispatcher } from 'undici';

export interface UploadTarget {
  baseURL: string;
  apiKey: string;
  organization?: string | null;
  project?: string | null;
  defaultHeaders?: Record<string, string>;
  dispatcher?: Dispatcher;
}

export interface UploadOptions {
  purpose: FilePurpose;
  /** Seconds after which OpenAI deletes the file (`expires_after`, anchored at its creation). */
  expiresAfterSeconds?: number | undefined;
  signal?: AbortSignal;
  /** Called once every byte of the file and the closing boundary went out, with the file's size. */
  onBodySent?: (bytes: number) => void;
  /**
   * Upstream idle timeout (undici headersTimeout + bodyTimeout): how long upstream may stall, either not
   * accepting body bytes or not answering, and between response body chunks. A slow *source* is not
   * timed here; the HTTP server's own request timeouts cover slow clients. Default: undici's (300 s).
   */
  timeoutMs?: number;
}

/** The purposes `POST /files` accepts. */
export type FilePurpose = OpenAI.FilePurpose;

// Response bodies are small JSON documents; the cap only guards against a misbehaving upstream.
const MAX_RESPONSE_BYTES = 1024 * 1024;

// Caller-supplied headers must not break the framing or the boundary this module controls.
const RESERVED_HEADERS = new Set([
  'authorization',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'host',
  'expect',
]);

// Control characters have no business in a file name, and CR/LF in the quoted form would let a
// client-chosen name inject header lines into the part; both forms get the same cleaned name.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;
// A lone surrogate cannot be encoded as UTF-8 (encodeURIComponent would throw).
const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function rfc5987(value: string): string {
  // encodeURIComponent leaves ' ( ) * ! unescaped, but RFC 5987 attr-char excludes them.
  return encodeURIComponent(value).replace(
    /['()*!]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The name as it is sent: control characters and lone surrogates replaced. */
export function sentFilename(filename: string): string {
  return filename.replace(CONTROL_CHARS, '_').replace(LONE_SURROGATES, '\uFFFD');
}

export function contentDispositionForFile(filename: string): string {
  const cleaned = sentFilename(filename);
  // Backslash and quote as RFC 9110 quoted-pairs, which busboy and other parsers unescape.
  let header = `form-data; name="file"; filename="${cleaned.replace(/[\\"]/g, '\\$&')}"`;
  // The quoted form carries raw UTF-8, which some parsers read as latin1 (busboy's default), so
  // non-ASCII names also get the unambiguous extended form, which busboy prefers when present.
  if (/[^\u0020-\u007e]/.test(cleaned)) header += `; filename*=UTF-8''${rfc5987(cleaned)}`;
  return header;
}

function field(boundary: string, name: string, value: string): string {
  return `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
}

// A client-supplied type goes into a header line, so only a plain `type/subtype; param=value` passes.
const MIME_TYPE = /^[\w.+-]+\/[\w.+-]+(\s*;\s*[\w.+-]+=("[^"\r\n]*"|[\w.+-]+))*$/;

export function safeMimetype(mimetype: string | undefined): string {
  return mimetype && MIME_TYPE.test(mimetype) ? mimetype : 'application/octet-stream';
}

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

async function readCapped(body: Dispatcher.ResponseData['body'], apiKey: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    size += buf.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy();
      break;
    }
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  // An upstream (or a proxy in front of it) that echoes the key must not carry it into an error message.
  return apiKey ? text.split(apiKey).join('[redacted]') : text;
}

function safeJSON(text: string): object | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? value : undefined;
  } catch {
    return undefined;
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function toConnectionError(err: unknown): APIConnectionError {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return new APIConnectionTimeoutError();
  return new APIConnectionError({ cause: err instanceof Error ? err : new Error(String(err)) });
}

/** A file to create: its bytes as a plain stream, and what the multipart part says about it. */
export interface FileToUpload {
  body: Readable;
  filename: string;
  mimetype?: string | undefined;
}

/**
 * Uploads `file.body` as a new OpenAI file. The call owns the stream: when the upload cannot
 * complete it destroys it, so whoever feeds it learns it is no longer read. When the stream itself
 * fails (its producer gave up: a size limit, a client gone), the upload is cut before its closing
 * boundary, so upstream stores nothing, and that error is what the call rejects with.
 *
 * Never retried: the body is a one-shot stream.
 */
export async function uploadFileStream(
  target: UploadTarget,
  file: FileToUpload,
  options: UploadOptions,
): Promise<OpenAI.FileObject> {
  const source = file.body;
  const { signal } = options;
  // Once the upload has been given up, the source must not throw an unhandled 'error'.
  const releaseSource = (): void => {
    if (source.readableEnded || source.destroyed) return;
    source.on('error', () => {});
    source.destroy();
  };
  if (signal?.aborted) {
    releaseSource();
    throw abortError(signal);
  }

  const internal = new AbortController();
  let failure: Error | undefined;
  // Records the first reason the upload cannot complete and tears the upstream request down. The
  // closing boundary is only ever written by the generator after checking `failure`, so upstream
  // sees an incomplete body and must not create a file.
  const fail = (err: Error): Error => {
    failure ??= err;
    internal.abort(failure);
    releaseSource();
    return failure;
  };
  const onAbort = () => fail(abortError(signal));
  signal?.addEventListener('abort', onAbort, { once: true });

  const boundary = `----vector-store-gateway-${randomBytes(16).toString('hex')}`;
  let preamble = field(boundary, 'purpose', options.purpose);
  if (options.expiresAfterSeconds !== undefined) {
    preamble += field(boundary, 'expires_after[anchor]', 'created_at');
    preamble += field(boundary, 'expires_after[seconds]', String(Math.trunc(options.expiresAfterSeconds)));
  }
  preamble +=
    `--${boundary}\r\nContent-Disposition: ${contentDispositionForFile(file.filename)}\r\n` +
    `Content-Type: ${safeMimetype(file.mimetype)}\r\n\r\n`;

  let bytes = 0;
  async function* multipart(): AsyncGenerator<Buffer> {
    yield Buffer.from(preamble, 'utf8');
    try {
      for await (const chunk of source) {
        if (failure) throw failure;
        const buffer = toBuffer(chunk);
        bytes += buffer.byteLength;
        yield buffer;
      }
    } catch (err) {
      // The source's own error (a size limit, a client gone) is the caller-facing reason, not the
      // connection error undici would report once the body fails.
      throw fail(err instanceof Error ? err : new Error(String(err)));
    }
    if (failure) throw failure;
    yield Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
    options.onBodySent?.(bytes);
  }

  // highWaterMark 1: pull one chunk at a time so nothing is read ahead of what undici has written.
  const body = Readable.from(multipart(), { objectMode: false, highWaterMark: 1 });
  // The body's error is reported through `failure` / the request promise; this keeps it from being unhandled.
  body.on('error', () => {});

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(target.defaultHeaders ?? {})) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
  }
  headers.authorization = `Bearer ${target.apiKey}`;
  headers['content-type'] = `multipart/form-data; boundary=${boundary}`;
  headers.accept = 'application/json';
  if (target.organization) headers['openai-organization'] = target.organization;
  if (target.project) headers['openai-project'] = target.project;

  const url = `${target.baseURL.replace(/\/+$/, '')}/files`;

  try {
    let res: Dispatcher.ResponseData;
    try {
      // undici is loaded on the first upload: a gateway that never uploads keeps it out of memory.
      const { request } = await import('undici');
      res = await request(url, {
        method: 'POST',
        headers,
        body,
        signal: internal.signal,
        ...(target.dispatcher ? { dispatcher: target.dispatcher } : {}),
        ...(options.timeoutMs !== undefined
          ? { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs }
          : {}),
      });
    } catch (err) {
      throw failure ?? toConnectionError(err);
    }

    let text: string;
    try {
      text = await readCapped(res.body, target.apiKey);
    } catch (err) {
      if (failure) throw failure;
      // The status line is already known; an error status still maps to its class without a body.
      if (res.statusCode >= 300) throw apiError(res, undefined);
      throw toConnectionError(err);
    }
    if (failure) throw failure;
    if (res.statusCode < 200 || res.statusCode >= 300) throw apiError(res, text);

    const parsed = safeJSON(text) as (OpenAI.FileObject & { id?: unknown }) | undefined;
    if (!parsed || typeof parsed.id !== 'string') {
      throw new APIError(
        res.statusCode,
        undefined,
        'Unexpected response body from POST /files',
        toHeaders(res.headers),
      );
    }
    // Mirrors the SDK's addRequestID so callers can log `_request_id` either way.
    Object.defineProperty(parsed, '_request_id', {
      value: firstHeader(res.headers['x-request-id']) ?? null,
      enumerable: false,
    });
    return parsed;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // A response can arrive before the body is fully sent (e.g. 401 before reading); stop sending.
    if (!body.readableEnded) {
      failure ??= new Error('upstream answered before the request body was complete');
      releaseSource();
      body.destroy();
      internal.abort(failure);
    }
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  // A view, not a copy: chunks are forwarded once and must not double the memory in flight.
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('file stream yielded a chunk that is not bytes');
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function abortError(signal: AbortSignal | undefined): APIUserAbortError {
  const err = new APIUserAbortError();
  if (signal?.reason !== undefined) err.cause = signal.reason;
  return err;
}

function apiError(res: Dispatcher.ResponseData, text: string | undefined): APIError {
  const parsed = text === undefined ? undefined : safeJSON(text);
  // Same split as the SDK: a JSON body becomes `error`, anything else becomes the message.
  const message = parsed === undefined && text ? text : undefined;
  return APIError.generate(res.statusCode, parsed, message, toHeaders(res.headers));
}
