import type { IncomingMessage, RequestListener, ServerOptions, ServerResponse } from 'node:http';
import { largestUpload, type UploadLimits } from '../uploads/parse.ts';
import { DEFAULT_JSON_BODY_BYTES } from './use-body-limit.ts';

/**
 * What only a Node HTTP server needs, before the request becomes a fetch `Request` and after its
 * answer: a target and a Host that make a URL (the adapter would otherwise fail building it, with
 * a 500 and a stack), bodies that arrive in bounded time, and connections that end, or stay
 * usable, according to who was answered.
 */

/** How long the headers of a request may take, and how often Node checks its timeouts. */
const HEADERS_TIMEOUT_MS = 10_000;
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/** How long a JSON body may take to arrive: it is at most a few MB. */
export const BODY_TIMEOUT_MS = 10_000;
/**
 * How long an answer sent before its request's body was read (a refusal: no token, a CSRF risk,
 * a wrong path) lingers for the client to read it; then the connection ends, its body unread.
 */
export const REFUSAL_LINGER_MS = 1_000;

/**
 * Server options that keep a slow client from holding a socket: headers within 10 s, a request
 * within the longest deadline it can have (an upload's). Node refuses a headers timeout longer
 * than the request timeout, so it never is.
 */
export function nodeServerOptions(uploadDeadlineMs: number): ServerOptions {
  return {
    requestTimeout: uploadDeadlineMs,
    headersTimeout: Math.min(HEADERS_TIMEOUT_MS, uploadDeadlineMs),
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
}

export function nodeRequestListener(handle: RequestListener, uploadLimits: UploadLimits): RequestListener {
  // The largest bodies the gateway takes: past these, reading on after an answer is pointless.
  const largest = { json: DEFAULT_JSON_BODY_BYTES, multipart: largestUpload(uploadLimits) };
  return (req, res) => {
    const refusal = malformedTarget(req);
    if (refusal) {
      res.shouldKeepAlive = false;
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ message: refusal, extensions: { code: 'BAD_REQUEST' } }] }));
      return;
    }
    const multipart = /^multipart\/form-data/i.test(req.headers['content-type'] ?? '');
    // An upload's body lasts as long as the client takes, up to its deadline (the server's
    // request timeout); anything else has a few seconds.
    if (!multipart) limitBodyTime(req, res);
    settleBodyAfterAnswer(req, res, multipart ? largest.multipart : 4 * largest.json);
    handle(req, res);
  };
}

/** A host name, IPv4 or bracketed IPv6 address, with an optional port. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Why a request (or WebSocket upgrade) has no usable target: a path and a valid Host; null when it has. */
export function malformedTarget(req: IncomingMessage): string | null {
  // Origin form only: an absolute-form target (`GET http://x/graphql`) is for proxies.
  if (!req.url?.startsWith('/')) return 'The request target must be a path, such as /graphql.';
  const host = req.headers.host;
  if (host !== undefined && !HOST.test(host)) return 'The Host header is not a valid host name.';
  return null;
}

function expectsBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** A body that has not arrived in BODY_TIMEOUT_MS is answered 408 and its connection ended. */
function limitBodyTime(req: IncomingMessage, res: ServerResponse): void {
  if (!expectsBody(req)) return;
  const timer = setTimeout(() => {
    if (req.complete) return;
    if (!res.headersSent) {
      res.shouldKeepAlive = false;
      res.writeHead(408, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          errors: [
            {
              message: `The request body did not arrive within ${BODY_TIMEOUT_MS / 1000} s.`,
              extensions: { code: 'REQUEST_TIMEOUT' },
            },
          ],
        }),
      );
    }
    req.socket.destroySoon();
  }, BODY_TIMEOUT_MS);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}

/**
 * An answer can go out while its request's body is still arriving.
 *
 * - The body was never read: the request was refused as it arrived (no token, a CSRF risk, a
 *   wrong path). Its sender gets REFUSAL_LINGER_MS to read the answer, and the connection ends:
 *   an unauthenticated caller's body is never read to its end, however slowly it is sent.
 * - It was partly read: an upload refused once its `operations` and `map` were read, a file cut
 *   at the size limit. Closing the socket with unread input would make the kernel reset it, the
 *   client's next write would fail with EPIPE, and a client that sees that before it has parsed
 *   the answer (undici's fetch) would report "fetch failed" instead of the answer. So the rest
 *   is read and dropped, up to `maxDrainBytes`, and the connection stays usable. A body its
 *   reader destroyed (yoga past its size limit) still ends the connection: Node can no longer
 *   read the rest, which would stay on the wire in front of the next request.
 */
function settleBodyAfterAnswer(req: IncomingMessage, res: ServerResponse, maxDrainBytes: number): void {
  let refusedUnread = false;
  const writeHead = res.writeHead;
  res.writeHead = function writeHeadSettling(this: ServerResponse, ...args: unknown[]) {
    if (req.destroyed && !req.complete) this.shouldKeepAlive = false;
    refusedUnread = !req.readableDidRead && !req.complete && expectsBody(req);
    return (writeHead as (...rest: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
  res.once('finish', () => {
    if (req.complete || req.destroyed) return;
    if (refusedUnread) {
      // Node reads on, dropping the body, while the client reads the answer. A body that has not
      // ended by then ends with its connection; one that has leaves the connection usable.
      setTimeout(() => {
        if (!req.complete) req.socket.destroy();
      }, REFUSAL_LINGER_MS).unref();
      return;
    }
    let drained = 0;
    req.on('error', () => {});
    req.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > maxDrainBytes) req.destroy();
    });
    req.resume();
  });
}
