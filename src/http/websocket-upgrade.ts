/**
 * The handshake of a WebSocket on `/graphql`, before graphql-ws has the connection: which
 * upgrades are refused (origin, host, path, draining), how a refusal is answered on the raw
 * socket, and where a connection's credentials are read from.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HeaderReader } from '../access.ts';
import type { App } from '../app.ts';
import { malformedTarget } from './node.ts';
import type { Refusal } from './refusal.ts';
import { ROUTES } from './routes.ts';

/**
 * The caller's credentials: `connectionParams` first (keys in any case), as browsers cannot set
 * headers on a WebSocket; then the upgrade request's headers, which other clients can.
 */
export function headerReader(
  connectionParams: Readonly<Record<string, unknown>> | undefined,
  request: IncomingMessage,
): HeaderReader {
  const params = new Map<string, string>();
  for (const [key, value] of Object.entries(connectionParams ?? {})) {
    if (typeof value === 'string') params.set(key.toLowerCase(), value);
  }
  return (name) => {
    const fromParams = params.get(name);
    if (fromParams !== undefined) return fromParams;
    const header = request.headers[name];
    return typeof header === 'string' ? header : undefined;
  };
}

/**
 * Why an upgrade is refused before it completes, or null. A browser lets any page open a
 * WebSocket to any host, with the page's `Origin` and no preflight (cross-site WebSocket
 * hijacking), so the origin must be absent (not a browser), the gateway's own, or allowed as for
 * CORS; and a tokenless gateway answers only its own host names (DNS rebinding).
 */
export function upgradeRefusal(
  request: IncomingMessage,
  app: Pick<App, 'hosts' | 'origins' | 'draining'>,
): Refusal | null {
  const malformed = malformedTarget(request);
  if (malformed) return { status: 400, code: 'BAD_REQUEST', message: malformed };
  const host = request.headers.host;
  if (!host) return { status: 400, code: 'BAD_REQUEST', message: 'A WebSocket upgrade needs a Host header.' };
  if (new URL(request.url ?? '/', 'http://gateway.invalid').pathname !== ROUTES.graphql) {
    return { status: 404, code: 'NOT_FOUND', message: `WebSockets are served at ${ROUTES.graphql} only.` };
  }
  if (app.draining.aborted) {
    return { status: 503, code: 'SHUTTING_DOWN', message: 'The gateway is shutting down; connect again.' };
  }
  if (!app.hosts.allows(host)) {
    return {
      status: 403,
      code: 'HOST_NOT_ALLOWED',
      message: 'This host name is not served: configure it in allowedHosts, or use a gateway token.',
    };
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !sameOrigin(origin, host) && !app.origins.allows(origin)) {
    return {
      status: 403,
      code: 'ORIGIN_NOT_ALLOWED',
      message: 'WebSocket connections from this origin are not allowed: add it to the CORS origins.',
    };
  }
  return null;
}

/** Whether a page's origin is the host it connects to (its scheme's default port included). */
function sameOrigin(origin: string, host: string): boolean {
  try {
    const page = new URL(origin);
    return page.host === new URL(`${page.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

/** An HTTP answer on the raw socket, as ws itself refuses a handshake, and the socket's end. */
export function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
  const body = JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: refusal.code } }] });
  const reasons: Record<number, string> = {
    400: 'Bad Request',
    403: 'Forbidden',
    404: 'Not Found',
    503: 'Service Unavailable',
  };
  socket.once('finish', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${refusal.status} ${reasons[refusal.status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `\r\n${body}`,
  );
}
