/**
 * GraphQL over WebSocket (the graphql-ws `graphql-transport-ws` protocol) on `/graphql`, next to
 * yoga's SSE. Operations run through yoga's envelop (`getEnveloped`): the same schema, context,
 * limits, masking and GraphQL metrics as over HTTP, and the same pollers (live/). What yoga does
 * in its HTTP hooks is done here instead: the origin and host checks before the upgrade
 * (websocket-upgrade.ts), the access decision on `connection_init`, and a request log line per
 * operation (websocket-connections.ts).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import type { App } from '../app.ts';
import { Connections, closeReason } from './websocket-connections.ts';
import { prepareOperation } from './websocket-operation.ts';
import { headerReader, refuseUpgrade, upgradeRefusal } from './websocket-upgrade.ts';

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

export interface WebSocketEdge {
  /** Open connections. */
  readonly connections: number;
  /** Ends every connection at once (the end of a shutdown's grace) and stops accepting upgrades. */
  close(): Promise<void>;
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
  const connections = new Connections(app);
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
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => connections.open(socket, request));

  const graphqlWs = useServer(
    {
      isProd: true,
      connectionInitWaitTimeout: limits.connectionInitWaitMs,
      // yoga's enveloped execute and subscribe: each operation's own, as its plugins hold state per operation.
      execute: (args) => envelopeOf(args).execute(args),
      subscribe: (args) => envelopeOf(args).subscribe(args),
      onConnect(ctx) {
        const connection = connections.of(ctx.extra.socket);
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
        const connection = connections.of(ctx.extra.socket);
        const request = connections.begin(connection, id);
        if (app.draining.aborted) {
          return connections.refuse(connection, id, [
            new GraphQLError('The gateway is shutting down; reconnect to subscribe.', {
              extensions: { code: 'SHUTTING_DOWN' },
            }),
          ]);
        }
        // Decided again for the operation, from the credentials the connection was admitted
        // with: the same answer, recorded under this operation for the context factory.
        const access = edge.admit(request, connection.header ?? (() => undefined));
        if (!access.granted) {
          return connections.refuse(connection, id, [
            new GraphQLError(access.message, { extensions: { code: access.code } }),
          ]);
        }
        const prepared = await prepareOperation(app, request, payload);
        if ('errors' in prepared) return connections.refuse(connection, id, prepared.errors);
        envelopes.set(prepared.args, prepared.enveloped);
        return prepared.args;
      },
      onNext(ctx, id, _payload, _args, result) {
        const operation = connections.operation(ctx.extra.socket, id);
        if (!operation || !result.errors) return;
        operation.answeredErrors = true;
        edge.recordErrors(operation.request, result.errors);
      },
      onError(ctx, id, _payload, errors) {
        const operation = connections.operation(ctx.extra.socket, id);
        if (!operation) return;
        operation.failed = true;
        edge.recordErrors(operation.request, errors);
      },
      onComplete(ctx, id) {
        const connection = connections.find(ctx.extra.socket);
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
        connections.settle(connection, id, outcome);
      },
      onClose(ctx) {
        connections.closed(ctx.extra.socket);
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
        { connectionId: connections.find(socket)?.id, error: error.message },
        'websocket error',
      );
    });
  });

  function envelopeOf(args: ExecutionArgs) {
    const enveloped = envelopes.get(args);
    if (!enveloped) throw new Error('An operation reached execution without its envelope.');
    return enveloped;
  }

  const onDrain = () => connections.goAwayIdle();
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
