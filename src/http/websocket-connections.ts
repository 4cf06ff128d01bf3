/**
 * The open WebSocket connections and their operations: each operation's stand-in request and
 * signal (aborted with its connection), how it ended (one log line each, through the app's
 * operation edge), and the 1001 close that follows the last operation while the gateway drains.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { GraphQLError } from 'graphql';
import type { WebSocket } from 'ws';
import type { HeaderReader } from '../access.ts';
import type { App } from '../app.ts';
import type { OperationOutcome } from '../observability/request-log.ts';
import { ROUTES } from './routes.ts';

/** Why a connection ends when the gateway drains: clients reconnect, through the load balancer, elsewhere. */
const GOING_AWAY = { code: 1001, reason: 'The gateway is shutting down; reconnect to keep watching.' };

/** A close frame's reason is at most 123 bytes of UTF-8. */
const MAX_CLOSE_REASON_BYTES = 123;

export interface Operation {
  request: Request;
  controller: AbortController;
  /** The operation answered a graphql-ws `error` (refused, or its stream failed). */
  failed: boolean;
  /** A result it sent carried errors. */
  answeredErrors: boolean;
}

/** One client's connection, from the upgrade to the close. */
export interface Connection {
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

export class Connections {
  private readonly bySocket = new Map<WebSocket, Connection>();

  constructor(private readonly app: Pick<App, 'operations' | 'draining'>) {}

  get size(): number {
    return this.bySocket.size;
  }

  /** Registers a connection as its upgrade completes, before its first message. */
  open(socket: WebSocket, request: IncomingMessage): void {
    const scheme = (request.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
    this.bySocket.set(socket, {
      id: randomUUID(),
      socket,
      url: `${scheme}://${request.headers.host}${ROUTES.graphql}`,
      closed: new AbortController(),
      operations: new Map(),
      uncount: this.app.operations.connectionOpened(),
    });
  }

  of(socket: WebSocket): Connection {
    const connection = this.bySocket.get(socket);
    if (!connection) throw new Error('A WebSocket message arrived on a connection never opened.');
    return connection;
  }

  find(socket: WebSocket): Connection | undefined {
    return this.bySocket.get(socket);
  }

  operation(socket: WebSocket, id: string): Operation | undefined {
    return this.bySocket.get(socket)?.operations.get(id);
  }

  /** A new operation's stand-in request, whose signal aborts when it ends or its connection closes. */
  begin(connection: Connection, id: string): Request {
    const controller = new AbortController();
    const onClosed = () => controller.abort();
    connection.closed.signal.addEventListener('abort', onClosed, { once: true });
    controller.signal.addEventListener('abort', () =>
      connection.closed.signal.removeEventListener('abort', onClosed),
    );
    const request = new Request(connection.url, { method: 'POST', signal: controller.signal });
    connection.operations.set(id, { request, controller, failed: false, answeredErrors: false });
    return request;
  }

  /** Ends an operation once: its signal aborts, its deadline is released, its line is logged. */
  settle(connection: Connection, id: string, outcome: OperationOutcome): void {
    const operation = connection.operations.get(id);
    if (!operation) return;
    connection.operations.delete(id);
    operation.controller.abort();
    this.app.operations.settle(operation.request, { connectionId: connection.id, outcome });
    // graphql-ws sends an operation's `complete` after this hook; the close frame must follow it.
    if (this.app.draining.aborted && connection.operations.size === 0) {
      setImmediate(() => this.goAway(connection));
    }
  }

  /** Ends an operation refused before it ran, its errors recorded for its log line. */
  refuse(connection: Connection, id: string, errors: readonly GraphQLError[]): readonly GraphQLError[] {
    const operation = connection.operations.get(id);
    if (operation) {
      operation.failed = true;
      this.app.operations.recordErrors(operation.request, errors);
    }
    this.settle(connection, id, 'refused');
    return errors;
  }

  /** Forgets a closed connection, cancelling what it still had running. */
  closed(socket: WebSocket): void {
    const connection = this.bySocket.get(socket);
    if (!connection) return;
    this.bySocket.delete(socket);
    connection.closed.abort();
    for (const id of [...connection.operations.keys()]) this.settle(connection, id, 'cancelled');
    connection.uncount();
  }

  /** Closes every connection with no operation left (the others close after their last). */
  goAwayIdle(): void {
    for (const connection of this.bySocket.values()) {
      if (connection.operations.size === 0) this.goAway(connection);
    }
  }

  private goAway(connection: Connection): void {
    connection.socket.close(GOING_AWAY.code, GOING_AWAY.reason);
  }
}

/** A close reason within the frame's 123 bytes, cut at a character. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= MAX_CLOSE_REASON_BYTES) return text;
  let cut = text;
  while (Buffer.byteLength(`${cut}...`) > MAX_CLOSE_REASON_BYTES) cut = cut.slice(0, -1);
  return `${cut}...`;
}
