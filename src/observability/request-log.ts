/**
 * One log line per request: its id, operation, status, the upstream calls it made and the error
 * codes it answered with. The HTTP edge (http/use-request-log.ts) gathers it and writes it.
 */
import { randomUUID } from 'node:crypto';
import { type DocumentNode, getOperationAST, type OperationTypeNode } from 'graphql';
import type { Logger } from './logger.ts';

/**
 * What the Upstream `onCall` hook reports, plus what the app knows. Structural, so UpstreamCall
 * (and UpstreamCall with the `upstreamRequestId` it does not report yet) fits as it is.
 */
export interface ObservedUpstreamCall {
  operation: string;
  /** 'ok' or an UpstreamError code. */
  outcome: string;
  durationMs: number;
  /** OpenAI's `x-request-id`, for support; absent when the call never got an answer. */
  upstreamRequestId?: string | null | undefined;
  /** The credential's name, never its key. */
  credential?: string | undefined;
}

export interface RequestLogEntry {
  requestId: string;
  method: string;
  /** Path only: a GET's query string carries the query and its variables. */
  path: string;
  status: number;
  durationMs: number;
  operationName?: string | undefined;
  operationType?: string | undefined;
  upstreamCalls: number;
  upstreamRequestIds: string[];
  /** Calls per outcome, e.g. { ok: 3, RATE_LIMITED: 1 }. */
  upstreamOutcomes?: Record<string, number> | undefined;
  /** `extensions.code` of each error in the response, once each. */
  errors?: string[] | undefined;
}

/**
 * One line per request. 5xx at error and 4xx at warn, so alerting can key on the level; a 200
 * with field errors stays at info, since NOT_FOUND and RATE_LIMITED are normal outcomes.
 */
export function logRequest(logger: Logger, entry: RequestLogEntry): void {
  const level = entry.status >= 500 ? 'error' : entry.status >= 400 ? 'warn' : 'info';
  const line: Record<string, unknown> = { ...entry, durationMs: Math.round(entry.durationMs * 10) / 10 };
  if (entry.errors?.length === 0) delete line.errors;
  logger[level](line, 'request completed');
}

/**
 * How an operation over a long-lived connection (a WebSocket) ended: `ok`, `error` (a result
 * carried errors, or its stream failed), `refused` (before execution: validation, limits,
 * access), `cancelled` (the client stopped it or went away).
 */
export type OperationOutcome = 'ok' | 'error' | 'refused' | 'cancelled';

/**
 * One line per operation over a WebSocket, where no HTTP status exists: how it ended instead, and
 * which credential it used, by name.
 */
export interface OperationLogEntry extends Omit<RequestLogEntry, 'method' | 'path' | 'status'> {
  transport: 'websocket';
  /** The connection's id, shared by its operations. */
  connectionId: string;
  outcome: OperationOutcome;
  /** The credential's name; `caller-key` when the caller sent its own key. */
  credential: string;
}

/**
 * A refused operation at warn, as a 4xx is on HTTP; the rest at info, since errors in a result
 * (NOT_FOUND, STILL_IN_PROGRESS) are normal outcomes.
 */
export function logOperation(logger: Logger, entry: OperationLogEntry): void {
  const line: Record<string, unknown> = { ...entry, durationMs: Math.round(entry.durationMs * 10) / 10 };
  if (entry.errors?.length === 0) delete line.errors;
  logger[entry.outcome === 'refused' ? 'warn' : 'info'](line, 'operation completed');
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `x-request-id` when it is a sane token, else a fresh one. */
export function requestIdFrom(header: string | string[] | null | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** Operation names from clients are cut to this length wherever they are recorded. */
export const OPERATION_NAME_MAX = 100;

/** Everything one request did, gathered while it runs and logged when its response is ready. */
export class RequestTrace {
  readonly startedAt = performance.now();
  operationName: string | undefined;
  operationType: string | undefined;
  readonly calls: ObservedUpstreamCall[] = [];
  readonly errorCodes = new Set<string>();

  constructor(readonly requestId: string) {}

  recordUpstreamCall(call: ObservedUpstreamCall): void {
    this.calls.push(call);
  }

  entry(request: { method: string; url: string }, status: number): RequestLogEntry {
    return { ...this.summary(), method: request.method, path: pathOf(request.url), status };
  }

  /** What is logged of an operation whatever carried it. */
  summary(): Omit<RequestLogEntry, 'method' | 'path' | 'status'> {
    const outcomes: Record<string, number> = {};
    const upstreamRequestIds: string[] = [];
    for (const call of this.calls) {
      outcomes[call.outcome] = (outcomes[call.outcome] ?? 0) + 1;
      if (call.upstreamRequestId) upstreamRequestIds.push(call.upstreamRequestId);
    }
    return {
      requestId: this.requestId,
      durationMs: performance.now() - this.startedAt,
      operationName: this.operationName,
      operationType: this.operationType,
      upstreamCalls: this.calls.length,
      upstreamRequestIds,
      upstreamOutcomes: this.calls.length > 0 ? outcomes : undefined,
      errors: [...this.errorCodes],
    };
  }
}

export function pathOf(url: string): string {
  try {
    return new URL(url, 'http://gateway.invalid').pathname;
  } catch {
    return '?';
  }
}

export function operationOf(
  document: DocumentNode,
  operationName: string | null | undefined,
): { name: string | undefined; type: OperationTypeNode | undefined } {
  const operation = getOperationAST(document, operationName);
  return { name: operation?.name?.value, type: operation?.operation };
}

export const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

export function codeOf(error: { extensions?: Record<string, unknown> | undefined }): string {
  const code = error.extensions?.code;
  return typeof code === 'string' && ERROR_CODE.test(code) ? code : 'UNKNOWN';
}
