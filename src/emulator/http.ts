/**
 * HTTP plumbing shared by every route: replies as values (so faults can tamper with them before
 * they hit the socket), the headers the real API sends on every response, and JSON bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, invalidJson, payloadTooLarge } from './errors.ts';

export interface Reply {
  status: number;
  /** JSON-serialisable body; ignored when `raw` is given. */
  body?: unknown;
  raw?: { data: Buffer; contentType: string };
  headers?: Record<string, string>;
}

export const json = (body: unknown, headers?: Record<string, string>): Reply => ({
  status: 200,
  body,
  headers,
});

export function errorReply(error: ApiError, options: { detail?: boolean } = {}): Reply {
  const body = options.detail ? error.toJSONWithDetail() : error.toJSON();
  return { status: error.status, body, headers: { ...error.headers } };
}

export function serialize(reply: Reply): { data: Buffer; contentType: string } {
  return (
    reply.raw ?? { data: Buffer.from(JSON.stringify(reply.body ?? null)), contentType: 'application/json' }
  );
}

/**
 * Writes a reply with the headers observed on real responses. `truncate` sends the headers and only
 * the first half of the body, then leaves the socket open: a response that stalls mid-body.
 */
export function writeReply(
  res: ServerResponse,
  reply: Reply,
  meta: { requestId: string; startedAt: number },
  options: { truncate?: boolean } = {},
): void {
  if (res.destroyed || res.headersSent) return;
  const { data, contentType } = serialize(reply);
  res.statusCode = reply.status;
  res.setHeader('content-type', contentType);
  res.setHeader('content-length', data.length);
  res.setHeader('x-request-id', meta.requestId);
  res.setHeader('openai-version', '2020-10-01');
  res.setHeader('openai-processing-ms', String(Math.max(0, Math.round(performance.now() - meta.startedAt))));
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  if (options.truncate) {
    res.flushHeaders();
    res.write(data.subarray(0, Math.floor(data.length / 2)));
    return;
  }
  res.end(data);
}

/** Generous for 2,000-file batches with attributes, small enough to bound a misbehaving client. */
const MAX_JSON_BODY_BYTES = 32 * 1024 * 1024;

/**
 * Reads a JSON body. An empty body counts as absent (`undefined`): the SDK sends none for cancel,
 * and none is needed for an update that changes nothing.
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_JSON_BODY_BYTES) {
      throw payloadTooLarge(
        `Request body too large: the limit for JSON bodies is ${MAX_JSON_BODY_BYTES} bytes.`,
      );
    }
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidJson();
  }
}

export function bearerKey(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim() || null;
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}
