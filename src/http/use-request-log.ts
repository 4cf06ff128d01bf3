import type { DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type Logger, withRequestId } from '../observability/logger.ts';
import {
  codeOf,
  logOperation,
  logRequest,
  OPERATION_NAME_MAX,
  type OperationLogEntry,
  operationOf,
  pathOf,
  RequestTrace,
  requestIdFrom,
} from '../observability/request-log.ts';
import { refusalCodeOf } from './refusal.ts';

export interface RequestLogOptions {
  /** Not logged: scrapes of the metrics endpoint would drown the rest. */
  ignorePaths?: readonly string[];
}

export interface RequestLog {
  /**
   * The yoga plugin: gives every request its id (the caller's `x-request-id` when sane, else a
   * fresh one), runs the request under it so every line logged meanwhile carries it, echoes it
   * in the response, and logs one line per request, refusals included.
   */
  plugin: Plugin;
  /** The trace of a request: its id, and where the upstream calls made for it are recorded. */
  trace(request: Request): RequestTrace;
  /**
   * Records the error codes of a result sent outside an HTTP response (over a WebSocket), so they
   * are logged with the operation.
   */
  recordErrors(
    request: Request,
    errors: ReadonlyArray<{ extensions?: Record<string, unknown> | undefined }>,
  ): void;
  /** The one line of an operation carried outside HTTP (a WebSocket's), written as it ends. */
  operationDone(
    request: Request,
    details: Pick<OperationLogEntry, 'transport' | 'connectionId' | 'outcome' | 'credential'>,
  ): void;
}

/** The one place a request gets its id. */
export function useRequestLog(logger: Logger, options: RequestLogOptions = {}): RequestLog {
  const traces = new WeakMap<Request, RequestTrace>();
  const ignored = new Set(options.ignorePaths ?? ['/metrics']);

  function trace(request: Request): RequestTrace {
    let found = traces.get(request);
    if (!found) {
      found = new RequestTrace(requestIdFrom(request.headers.get('x-request-id')));
      traces.set(request, found);
    }
    return found;
  }

  function recordOperation(args: {
    contextValue: unknown;
    document: DocumentNode;
    operationName?: string | null | undefined;
  }): void {
    const request = (args.contextValue as { request?: Request }).request;
    const found = request && traces.get(request);
    if (!found) return;
    const operation = operationOf(args.document, args.operationName);
    found.operationName = operation.name ?? found.operationName;
    found.operationType = operation.type;
  }

  const plugin: Plugin = {
    instrumentation: {
      request: ({ request }, handle) => withRequestId(trace(request).requestId, handle),
    },
    onParams({ request, params }) {
      // Replaced by the executed operation's own name once there is one; until then, what the
      // client claimed, bounded, for requests that fail before execution.
      if (typeof params.operationName === 'string') {
        trace(request).operationName = params.operationName.slice(0, OPERATION_NAME_MAX);
      }
    },
    onExecute: ({ args }) => recordOperation(args),
    // Subscriptions (over SSE and WebSockets) are not executed but subscribed.
    onSubscribe: ({ args }) => recordOperation(args),
    onResultProcess({ request, result }) {
      const found = trace(request);
      for (const single of Array.isArray(result) ? result : [result]) {
        if (!single || typeof single !== 'object' || !('errors' in single)) continue;
        for (const error of single.errors ?? []) found.errorCodes.add(codeOf(error));
      }
    },
    onResponse({ request, response }) {
      const found = trace(request);
      response.headers.set('x-request-id', found.requestId);
      if (ignored.has(pathOf(request.url))) return;
      const refusal = refusalCodeOf(request);
      if (refusal) found.errorCodes.add(refusal);
      logRequest(logger, found.entry(request, response.status));
    },
  };
  return {
    plugin,
    trace,
    recordErrors(request, errors) {
      const found = trace(request);
      for (const error of errors) found.errorCodes.add(codeOf(error));
    },
    operationDone(request, details) {
      logOperation(logger, { ...trace(request).summary(), ...details });
    },
  };
}
