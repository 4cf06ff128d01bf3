import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/**
 * What only a Node HTTP server needs before the request becomes a fetch `Request`: a target and
 * a Host that make a URL (the adapter would otherwise fail building it, with a 500 and a stack),
 * and connections that stay usable after an answer that left a body half-read.
 */
export function nodeRequestListener(
  handle: RequestListener,
  /** The largest bodies the gateway takes: past these, reading on after an answer is pointless. */
  largest: { json: number; multipart: number },
): RequestListener {
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
    settleBodyAfterAnswer(req, res, multipart ? largest.multipart : 4 * largest.json);
    handle(req, res);
  };
}

/** A host name, IPv4 or bracketed IPv6 address, with an optional port. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function malformedTarget(req: IncomingMessage): string | null {
  // Origin form only: an absolute-form target (`GET http://x/graphql`) is for proxies.
  if (!req.url?.startsWith('/')) return 'The request target must be a path, such as /graphql.';
  const host = req.headers.host;
  if (host !== undefined && !HOST.test(host)) return 'The Host header is not a valid host name.';
  return null;
}

/**
 * An answer can go out while its request's body is still arriving: an upload refused once its
 * `operations` and `map` are read, a file cut at the size limit. The connection must then not be
 * closed under the client: closing a socket with unread input makes the kernel answer the client's
 * next segment with a reset, its next write fails with EPIPE, and a client that sees that error
 * before it has parsed the answer (undici's fetch) reports "fetch failed" instead of the answer.
 * So what the readers left of the body is read and dropped after the answer, and the connection
 * stays usable. Two cases still end it: a body its reader destroyed (yoga past its size limit:
 * Node can no longer read the rest, which would stay on the wire in front of the next request),
 * and one that goes on past `maxDrainBytes`. Node's `requestTimeout` bounds how long a drain takes.
 */
function settleBodyAfterAnswer(req: IncomingMessage, res: ServerResponse, maxDrainBytes: number): void {
  const writeHead = res.writeHead;
  res.writeHead = function writeHeadSettling(this: ServerResponse, ...args: unknown[]) {
    if (req.destroyed && !req.complete) this.shouldKeepAlive = false;
    return (writeHead as (...rest: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
  res.once('finish', () => {
    if (req.complete || req.destroyed) return;
    let drained = 0;
    req.on('error', () => {});
    req.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > maxDrainBytes) req.destroy();
    });
    req.resume();
  });
}
