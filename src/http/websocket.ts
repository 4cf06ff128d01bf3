/**
 * GraphQL over WebSocket (the graphql-ws `graphql-transport-ws` protocol) on `/graphql`, next to
 * yoga's SSE. Operations run through yoga's envelop (`getEnveloped`): the same schema, context,
 * limits, masking and GraphQL metrics as over HTTP, and the same pollers (live/). What yoga does
 * in its HTTP hooks is done here instead: the origin and host checks before the upgrade, the
 * access decision on `connection_init`, a request log line per operation.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { type ExecutionArgs, GraphQLError, getOperationAST } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import type { HeaderReader } from '../access.ts';
import type { App } from '../app.ts';
import type { OperationOutcome } from '../observability/request-log.ts';
import { malformedTarget } from './node.ts';
import type { Refusal } from './refusal.ts';
import { ROUTES } from './routes.ts';

export interface WebSocketLimits {
  /**
   * The largest message a client may send; ws closes the connection (1009) past it. A message is
   * one operation: its document is at most the query limits' 1000 tokens and a subscription's
   * variables are ids, so 64 KiB is far above what any client sends, and far below the 100 MiB
   * ws would otherwise buffer per message. Large mutations belong on HTTP (2 MiB bodies).
   */
  maxPayloadBytes: number;
  /** How long a connection may stay open without `connection_init` (graphql-ws closes it, 4408). */
  connectionInitWaitMs: number;
  /**
   * How often the server pings; a peer that has not answered (pong) by the next ping is
   * terminated, so a vanished client's subscriptions and watches do not outlive it by more than
   * twice this. Proxies commonly drop connections idle for 60 s; pings keep live ones busy.
   */
  keepAliveMs: number;
}

export const defaultWebSocketLimits: Readonly<WebSocketLimits> = Object.freeze({
  maxPayloadBytes: 64 * 1024,
  connectionInitWaitMs: 10_000,
  keepAliveMs: 12_000,
});

/** Why a connection ends when the gateway drains: clients reconnect, through the load balancer, elsewhere. */
const GOING_AWAY = { code: 1001, reason: 'The gateway is shutting down; reconnect to keep watching.' };

/** A close frame's reason is at most 123 bytes of UTF-8. */
const MAX_CLOSE_REASON_BYTES = 123;

export interface WebSocketEdge {
  /** Open connections. */
  readonly connections: number;
  /** Ends every connection at once (the end of a shutdown's grace) and stops accepting upgrades. */
  close(): Promise<void>;
}

interface Operation {
  request: Request;
  controller: AbortController;
  /** The operation answered a graphql-ws `error` (refused, or its stream failed). */
  failed: boolean;
  /** A result it sent carried errors. */
  answeredErrors: boolean;
}

/** One client's connection, from the upgrade to the close. */
interface Connection {
  id: string;
  socket: WebSocket;
  /** Where each operation's stand-in request is addressed: publicUrl falls back to its origin. */
  url: string;
  /** The caller's credentials, set once the connection is acknowledged. */
  header?: HeaderReader;
  /** Aborts when the connection closes: its operations' upstream calls and watches end with it. */
  closed: AbortController;
  operations: Map<string, Operation>;
  uncount: () => void;
}

/**
 * Serves graphql-ws on `server`'s upgrades to `/graphql`, for `app`. Every other upgrade is
 * refused. Draining (`app.beginDraining()`) refuses new upgrades and closes each connection with
 * 1001 once its subscriptions have ended (draining ends them with SHUTTING_DOWN).
 */
export function attachWebSocket(
  server: Server,
  app: App,
  options: Partial<WebSocketLimits> = {},
): WebSocketEdge {
  const limits = { ...defaultWebSocketLimits, ...options };
  const edge = app.operations;
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayloadBytes });
  const connections = new Map<WebSocket, Connection>();
  /** The enveloped functions of each operation, found from the arguments graphql-ws hands back. */
  const envelopes = new WeakMap<ExecutionArgs, ReturnType<App['yoga']['getEnveloped']>>();

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = upgradeRefusal(request, app);
    if (refusal) {
      refuseUpgrade(socket, refusal);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  server.on('upgrade', onUpgrade);

  // Before graphql-ws's own listener, so a connection is known before its first message.
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const scheme = (request.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
    connections.set(socket, {
      id: randomUUID(),
      socket,
      url: `${scheme}://${request.headers.host}${ROUTES.graphql}`,
      closed: new AbortController(),
      operations: new Map(),
      uncount: edge.connectionOpened(),
    });
  });

  const connectionOf = (socket: WebSocket): Connection => {
    const connection = connections.get(socket);
    if (!connection) throw new Error('A WebSocket message arrived on a connection never opened.');
    return connection;
  };

  /** Ends an operation once: its signal aborts, its deadline is released, its line is logged. */
  const settle = (connection: Connection, id: string, outcome: OperationOutcome) => {
    const operation = connection.operations.get(id);
    if (!operation) return;
    connection.operations.delete(id);
    operation.controller.abort();
    edge.settle(operation.request, { connectionId: connection.id, outcome });
    // graphql-ws sends an operation's `complete` after this hook; the close frame must follow it.
    if (app.draining.aborted && connection.operations.size === 0) setImmediate(() => goAway(connection));
  };

  const goAway = (connection: Connection) => connection.socket.close(GOING_AWAY.code, GOING_AWAY.reason);

  const refuse = (connection: Connection, id: string, errors: readonly GraphQLError[]) => {
    const operation = connection.operations.get(id);
    if (operation) {
      operation.failed = true;
      edge.recordErrors(operation.request, errors);
    }
    settle(connection, id, 'refused');
    return errors;
  };

  const graphqlWs = useServer(
    {
      isProd: true,
      connectionInitWaitTimeout: limits.connectionInitWaitMs,
      // yoga's enveloped execute and subscribe: each operation's own, as its plugins hold state per operation.
      execute: (args) => envelopeOf(args).execute(args),
      subscribe: (args) => envelopeOf(args).subscribe(args),
      onConnect(ctx) {
        const connection = connectionOf(ctx.extra.socket);
        const header = headerReader(ctx.connectionParams, ctx.extra.request);
        const access = edge.decide(header);
        if (!access.granted) {
          // 4401 and 4403, as graphql-ws's own Unauthorized and Forbidden; returning false
          // afterwards changes nothing, the socket is already closing with this code.
          ctx.extra.socket.close(4000 + access.status, closeReason(`${access.code}: ${access.message}`));
          return false;
        }
        connection.header = header;
        return true;
      },
      async onSubscribe(ctx, id, payload) {
        const connection = connectionOf(ctx.extra.socket);
        const controller = new AbortController();
        const onClosed = () => controller.abort();
        connection.closed.signal.addEventListener('abort', onClosed, { once: true });
        controller.signal.addEventListener('abort', () =>
          connection.closed.signal.removeEventListener('abort', onClosed),
        );
        const request = new Request(connection.url, { method: 'POST', signal: controller.signal });
        connection.operations.set(id, { request, controller, failed: false, answeredErrors: false });
        if (app.draining.aborted) {
          return refuse(connection, id, [
            new GraphQLError('The gateway is shutting down; reconnect to subscribe.', {
              extensions: { code: 'SHUTTING_DOWN' },
            }),
          ]);
        }
        // Decided again for the operation, from the credentials the connection was admitted
        // with: the same answer, recorded under this operation for the context factory.
        const access = edge.admit(request, connection.header ?? (() => undefined));
        if (!access.granted) {
          return refuse(connection, id, [
            new GraphQLError(access.message, { extensions: { code: access.code } }),
          ]);
        }
        // Persisted operations hold here as over HTTP: trusted documents only, or APQ's hashes.
        // graphql-ws requires a `query` string, so a client naming its operation by id sends ''.
        const resolved = app.persisted.resolve({
          ...(payload as unknown as Record<string, unknown>),
          query: payload.query === '' ? undefined : payload.query,
        });
        if ('refusal' in resolved) return refuse(connection, id, [resolved.refusal]);
        const params = { ...paramsOf(payload), query: resolved.query };
        const enveloped = app.yoga.getEnveloped({ request, params } as never);
        try {
          const document = enveloped.parse(params.query);
          const errors = enveloped.validate(enveloped.schema, document);
          if (errors.length > 0) return refuse(connection, id, errors);
          if (!getOperationAST(document, params.operationName)) {
            return refuse(connection, id, [
              new GraphQLError(
                'The document has no operation of that name, or several and no name was given.',
                {
                  extensions: { code: 'BAD_REQUEST' },
                },
              ),
            ]);
          }
          const args: ExecutionArgs = {
            schema: enveloped.schema,
            document,
            operationName: params.operationName,
            variableValues: params.variables,
            contextValue: await enveloped.contextFactory(),
          };
          envelopes.set(args, enveloped);
          return args;
        } catch (error) {
          return refuse(connection, id, [asGraphQLError(error)]);
        }
      },
      onNext(ctx, id, _payload, _args, result) {
        const operation = connections.get(ctx.extra.socket)?.operations.get(id);
        if (!operation || !result.errors) return;
        operation.answeredErrors = true;
        edge.recordErrors(operation.request, result.errors);
      },
      onError(ctx, id, _payload, errors) {
        const operation = connections.get(ctx.extra.socket)?.operations.get(id);
        if (!operation) return;
        operation.failed = true;
        edge.recordErrors(operation.request, errors);
      },
      onComplete(ctx, id) {
        const connection = connections.get(ctx.extra.socket);
        const operation = connection?.operations.get(id);
        if (!connection || !operation) return;
        // graphql-ws forgets an operation before this hook when the client completed it or left.
        const stopped = !(id in ctx.subscriptions);
        const outcome = operation.failed
          ? 'error'
          : stopped
            ? 'cancelled'
            : operation.answeredErrors
              ? 'error'
              : 'ok';
        settle(connection, id, outcome);
      },
      onClose(ctx) {
        const connection = connections.get(ctx.extra.socket);
        if (!connection) return;
        connections.delete(ctx.extra.socket);
        connection.closed.abort();
        for (const id of [...connection.operations.keys()]) settle(connection, id, 'cancelled');
        connection.uncount();
      },
    },
    wss,
    limits.keepAliveMs,
  );

  // graphql-ws prints a socket's errors (a message past maxPayload, a bad frame) with console.error,
  // the whole socket object included, outside the scrubbed log. ws has already closed the socket
  // with the fitting code (1009, 1002) when it emits them: they are the client's, logged at debug.
  wss.on('connection', (socket: WebSocket) => {
    socket.removeAllListeners('error');
    socket.on('error', (error) => {
      edge.logger.debug(
        { connectionId: connections.get(socket)?.id, error: error.message },
        'websocket error',
      );
    });
  });

  function envelopeOf(args: ExecutionArgs) {
    const enveloped = envelopes.get(args);
    if (!enveloped) throw new Error('An operation reached execution without its envelope.');
    return enveloped;
  }

  const onDrain = () => {
    for (const connection of connections.values()) {
      if (connection.operations.size === 0) goAway(connection);
    }
  };
  if (app.draining.aborted) onDrain();
  else app.draining.addEventListener('abort', onDrain, { once: true });

  return {
    get connections() {
      return connections.size;
    },
    async close() {
      server.off('upgrade', onUpgrade);
      app.draining.removeEventListener('abort', onDrain);
      for (const socket of wss.clients) socket.terminate();
      await graphqlWs.dispose();
    },
  };
}

/** The GraphQL parameters of a subscribe message, as yoga's context and plugins see HTTP's. */
function paramsOf(payload: SubscribePayload) {
  return {
    query: payload.query,
    operationName: payload.operationName ?? undefined,
    variables: payload.variables ?? undefined,
    extensions: payload.extensions ?? undefined,
  };
}

/** What the client saw; the original is not echoed (yoga masks such errors alike over HTTP). */
function asGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

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
function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
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

/** A close reason within the frame's 123 bytes, cut at a character. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= MAX_CLOSE_REASON_BYTES) return text;
  let cut = text;
  while (Buffer.byteLength(`${cut}...`) > MAX_CLOSE_REASON_BYTES) cut = cut.slice(0, -1);
  return `${cut}...`;
}
