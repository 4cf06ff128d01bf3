import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/**
 * What only a Node HTTP server needs before the request becomes a fetch `Request`: a target and
 * a Host that make a URL (the adapter would otherwise fail building it, with a 500 and a stack),
 * and connections that stay usable after an answer that left a body half-read.
 */
export function nodeRequestListener(handle: RequestListener): RequestListener {
  return (req, res) => {
    const refusal = malformedTarget(req);
    if (refusal) {
      res.shouldKeepAlive = false;
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ message: refusal, extensions: { code: 'BAD_REQUEST' } }] }));
      return;
    }
    closeIfBodyUnread(req, res);
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
 * A response that goes out while its request's body is only partly read (a chunked body cut off at
 * the size limit) also ends the connection. Node drains the body after the response only when
 * nothing started reading it: the rest of a body whose reader stopped stayed on the wire, and the
 * client's next request on that kept-alive connection failed with ECONNRESET. A body never read (a
 * refusal before reading) is still drained by Node, and its connection kept.
 */
function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function writeHeadClosing(this: ServerResponse, ...args: unknown[]) {
    // Decided as the answer goes out: by then most bodies have been read to their end.
    if (req.readableDidRead && !req.complete) this.shouldKeepAlive = false;
    return (writeHead as (...rest: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
}
