import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import {
  createCounter,
  createHistogram,
  type FillLabelsFnParams,
  usePrometheus,
} from '@graphql-yoga/plugin-prometheus';
import { type DocumentNode, getOperationAST, type OperationTypeNode } from 'graphql';
import type { Plugin, YogaLogger } from 'graphql-yoga';
import { pino } from 'pino';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

// ---------------------------------------------------------------------------------------------
// Secret scrubbing
// ---------------------------------------------------------------------------------------------

export const REDACTED = '[redacted]';
/** Keeps the `sk-` so a reader still sees that an OpenAI key (or OpenAI's masked echo of one) was there. */
export const REDACTED_KEY = 'sk-[redacted]';

/**
 * OpenAI key shapes, including the masked echo in OpenAI's 401 text ("sk-proj-****...MxYA"), whose
 * prefix and last four characters are still a fragment of the key. It also hits words such as
 * "risk-assessment"; over-redacting a log line is the cheaper mistake.
 */
const KEY_SHAPE = /sk-[A-Za-z0-9_\-*]{4,}/;

export type Scrub = (text: string) => string;

/**
 * Replaces OpenAI key shapes and the given literal secrets (gateway tokens, configured keys) in a
 * string. Each secret is also matched in its JSON-escaped and URL-encoded forms, because that is
 * how it appears inside a serialized log line or a logged URL.
 */
export function createScrubber(secrets: readonly string[] = []): Scrub {
  const { pattern, literals } = secretPattern(secrets);
  return (text) => text.replace(pattern, (match) => (literals.has(match) ? REDACTED : REDACTED_KEY));
}

function secretPattern(secrets: readonly string[]): { pattern: RegExp; literals: Set<string> } {
  const literals = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    literals.add(secret);
    literals.add(JSON.stringify(secret).slice(1, -1));
    literals.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret that contains another is replaced whole.
  const alternatives = [...literals].sort((a, b) => b.length - a.length).map(escapeRegExp);
  alternatives.push(KEY_SHAPE.source);
  return { pattern: new RegExp(alternatives.join('|'), 'g'), literals };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Deep enough for any log call the gateway makes; deeper values are left to the line-level pass. */
const MAX_SCRUB_DEPTH = 8;

/**
 * A scrubbed copy of a value about to be logged. Errors stay Errors of the same class, so pino still
 * takes `message` as the line's `msg` and its err serializer still reports the type; their message,
 * stack, cause and enumerable fields are scrubbed. Other class instances (IncomingMessage, Headers,
 * Buffer...) are passed through untouched: walking them would be costly or would change how pino
 * serializes them, and the line-level pass still covers what they print.
 */
export function scrubValue(value: unknown, scrub: Scrub): unknown {
  return scrubInner(value, scrub, 0, new WeakMap());
}

function scrubInner(value: unknown, scrub: Scrub, depth: number, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return scrub(value);
  if (typeof value !== 'object' || value === null || depth > MAX_SCRUB_DEPTH) return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(scrubInner(item, scrub, depth + 1, seen));
    return copy;
  }
  if (value instanceof Error) return scrubError(value, scrub, depth, seen);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    // What JSON would print anyway (a URL's href, say), taken now so it is scrubbed with the rest:
    // pino's wildcard redaction cannot copy such objects and prints them as unserializable.
    const toJSON: unknown = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON !== 'function' || ArrayBuffer.isView(value)) return value;
    try {
      return scrubInner(toJSON.call(value), scrub, depth + 1, seen);
    } catch {
      return value;
    }
  }
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  for (const [key, item] of Object.entries(value)) {
    copy[scrub(key)] =
      SENSITIVE_KEYS.has(key.toLowerCase()) && item != null
        ? REDACTED
        : scrubInner(item, scrub, depth + 1, seen);
  }
  return copy;
}

/**
 * Fields censored whole at any depth of a logged plain object, whatever they hold: a credential
 * header may carry a token or key that matches no known shape and was not configured (a wrong one,
 * a caller's own). pino's `redact` paths below only reach fixed depths.
 */
const SENSITIVE_KEYS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-openai-api-key',
  'x-api-key',
  'api-key',
  'api_key',
  'apikey',
  'token',
  'access_token',
  'refresh_token',
  'password',
  'secret',
  'encrypteddata',
]);

/** Non-enumerable fields that pino's err serializer reads anyway. */
const SERIALIZED_ERROR_FIELDS = new Set<PropertyKey>(['message', 'stack', 'cause', 'errors']);

function scrubError(error: Error, scrub: Scrub, depth: number, seen: WeakMap<object, unknown>): Error {
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error;
  seen.set(error, copy);
  for (const key of Reflect.ownKeys(error)) {
    const descriptor = Object.getOwnPropertyDescriptor(error, key);
    if (!descriptor) continue;
    // Fields JSON never prints (a GraphQLError's AST nodes, its originalError) are not worth a walk.
    if ('value' in descriptor && (descriptor.enumerable || SERIALIZED_ERROR_FIELDS.has(key))) {
      descriptor.value = scrubInner(descriptor.value, scrub, depth + 1, seen);
    }
    Object.defineProperty(copy, key, descriptor);
  }
  return copy;
}

/** A JSON string literal, escapes included. */
const JSON_STRING = /"(?:[^"\\]|\\.)*"/g;

/**
 * Scrubs a serialized JSON line inside its string literals only, so the result is always valid
 * JSON even for a secret that looks like a number or a keyword.
 */
function scrubJsonLine(line: string, scrub: Scrub, probe: RegExp): string {
  if (!probe.test(line)) return line;
  return line.replace(JSON_STRING, (literal) => scrub(literal));
}

// ---------------------------------------------------------------------------------------------
// Logger
// ---------------------------------------------------------------------------------------------

export type Logger = pino.Logger;

export interface LoggerOptions {
  level: string;
  /** Where lines go; stdout when absent. */
  destination?: NodeJS.WritableStream | pino.DestinationStream;
  /** Literal values that must never be printed: gateway tokens, configured API keys. */
  secrets?: readonly string[];
}

/**
 * pino censors these paths whole. They mostly repeat SENSITIVE_KEYS for what the argument pass does
 * not walk: the request pino builds from an IncomingMessage, class instances. No path has two
 * wildcards: @pinojs/redact 0.4 throws on `*.*.x` when a URL or an AbortSignal is logged.
 */
const REDACT_PATHS = [
  'authorization',
  'apiKey',
  'token',
  '*.authorization',
  '*.apiKey',
  '*.token',
  '*.encryptedData',
  'headers.authorization',
  'headers.cookie',
  'headers["x-openai-api-key"]',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-openai-api-key"]',
  '*.headers["x-api-key"]',
];

/**
 * A JSON logger that cannot print a secret. Two passes: every argument of every log call is
 * scrubbed before pino serializes it (so the err serializer, `msg` and custom serializers only see
 * clean values, and a serializer that truncates cannot cut a secret into an unrecognizable piece),
 * and every finished line is scrubbed again inside its string literals, which covers child
 * bindings and whatever pino serializes itself (an IncomingMessage's headers, say).
 */
export function createLogger(options: LoggerOptions): Logger {
  const scrub = createScrubber(options.secrets);
  // Without the g flag: a cheap "may need scrubbing" test, so clean lines skip the rewrite.
  const probe = new RegExp(secretPattern(options.secrets ?? []).pattern.source);
  return pino(
    {
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Lines logged on a request's behalf by code that does not know it (yoga's masked errors, the
      // SDK) still carry its id.
      mixin: () => {
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((arg) => scrubValue(arg, scrub)) as Parameters<pino.LogFn>;
          method.apply(this, scrubbed);
        },
        streamWrite: (line) => scrubJsonLine(line, scrub, probe),
      },
    },
    options.destination as pino.DestinationStream | undefined,
  );
}

type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * yoga's `logging` option. Yoga logs the original of every error it masks through `error`
 * (OpenAI's 401 text echoes part of the key): the original goes out as `err`, scrubbed like
 * everything else, so the line keeps its stack and type for debugging.
 */
export function yogaLogger(logger: Logger): YogaLogger {
  const child = logger.child({ component: 'yoga' });
  return levelAdapter(child);
}

/**
 * The `logger` option of the `openai` client. At debug the SDK logs request and response bodies;
 * it redacts auth headers itself but not bodies, which the scrubber covers.
 */
export function sdkLogger(logger: Logger): Record<Level, (message: string, ...rest: unknown[]) => void> {
  return levelAdapter(logger.child({ component: 'openai' }));
}

function levelAdapter(logger: Logger): Record<Level, (...args: unknown[]) => void> {
  const forward =
    (level: Level) =>
    (...args: unknown[]): void => {
      const [first, ...rest] = args;
      if (first instanceof Error) {
        const path = (first as { path?: unknown }).path;
        const graphqlPath = Array.isArray(path) ? path.join('.') : undefined;
        logger[level]({ err: originalOf(first), graphqlPath, ...detailsOf(rest) }, first.message);
      } else if (typeof first === 'string') {
        logger[level](detailsOf(rest), first);
      } else {
        logger[level]({ details: args });
      }
    };
  return { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };
}

/** A GraphQLError wraps what a resolver threw; the wrapped error has the useful type and stack. */
function originalOf(error: Error): Error {
  const original: unknown = (error as { originalError?: unknown }).originalError;
  return original instanceof Error ? original : error;
}

function detailsOf(rest: unknown[]): { details?: unknown[] } {
  return rest.length > 0 ? { details: rest } : {};
}

// ---------------------------------------------------------------------------------------------
// Request log
// ---------------------------------------------------------------------------------------------

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

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `x-request-id` when it is a sane token, else a fresh one. */
export function requestIdFrom(header: string | string[] | null | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

const requestScope = new AsyncLocalStorage<{ requestId: string }>();

/**
 * Runs the handling of one HTTP request under its id: every line any logger from createLogger
 * writes meanwhile, from any callback or continuation of it, carries `requestId`.
 */
export function withRequestId<T>(requestId: string, run: () => T): T {
  return requestScope.run({ requestId }, run);
}

export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}

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
    const outcomes: Record<string, number> = {};
    const upstreamRequestIds: string[] = [];
    for (const call of this.calls) {
      outcomes[call.outcome] = (outcomes[call.outcome] ?? 0) + 1;
      if (call.upstreamRequestId) upstreamRequestIds.push(call.upstreamRequestId);
    }
    return {
      requestId: this.requestId,
      method: request.method,
      path: pathOf(request.url),
      status,
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

function pathOf(url: string): string {
  try {
    return new URL(url, 'http://gateway.invalid').pathname;
  } catch {
    return '?';
  }
}

export interface RequestLogOptions {
  /**
   * How a request gets its id. By default the one withRequestId set, else the caller's
   * `x-request-id` if sane, else a UUID.
   */
  requestId?: (request: Request) => string;
  /** Not logged: scrapes of the metrics endpoint would drown the rest. */
  ignorePaths?: readonly string[];
  /** The response header that echoes the request id; false for none. */
  responseHeader?: string | false;
}

export interface RequestLog {
  /** A yoga plugin: assigns the request id, gathers what the request did, logs it at the response. */
  plugin: Plugin;
  /**
   * The trace of a request, for the context factory: its `requestId`, and `recordUpstreamCall`
   * for the Upstream `onCall` hook. Created on first use, so it never is undefined.
   */
  trace(request: Request): RequestTrace;
}

const OPERATION_NAME_MAX = 100;

export function createRequestLog(logger: Logger, options: RequestLogOptions = {}): RequestLog {
  const traces = new WeakMap<Request, RequestTrace>();
  const assignId =
    options.requestId ??
    ((request: Request) => currentRequestId() ?? requestIdFrom(request.headers.get('x-request-id')));
  const ignored = new Set(options.ignorePaths ?? ['/metrics']);
  const header = options.responseHeader ?? 'x-request-id';

  function trace(request: Request): RequestTrace {
    let found = traces.get(request);
    if (!found) {
      found = new RequestTrace(assignId(request));
      traces.set(request, found);
    }
    return found;
  }

  const plugin: Plugin = {
    onRequest({ request }) {
      trace(request);
    },
    onParams({ request, params }) {
      // Replaced by the executed operation's own name once there is one; until then, what the
      // client claimed, bounded, for requests that fail before execution.
      if (typeof params.operationName === 'string') {
        trace(request).operationName = params.operationName.slice(0, OPERATION_NAME_MAX);
      }
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const found = request && traces.get(request);
      if (!found) return;
      const operation = operationOf(args.document, args.operationName);
      found.operationName = operation.name ?? found.operationName;
      found.operationType = operation.type;
    },
    onResultProcess({ request, result }) {
      const found = trace(request);
      for (const single of Array.isArray(result) ? result : [result]) {
        if (!single || typeof single !== 'object' || !('errors' in single)) continue;
        for (const error of single.errors ?? []) found.errorCodes.add(codeOf(error));
      }
    },
    onResponse({ request, response }) {
      const found = traces.get(request);
      if (!found || ignored.has(pathOf(request.url))) return;
      if (header) response.headers.set(header, found.requestId);
      logRequest(logger, found.entry(request, response.status));
    },
  };
  return { plugin, trace };
}

function operationOf(
  document: DocumentNode,
  operationName: string | null | undefined,
): { name: string | undefined; type: OperationTypeNode | undefined } {
  const operation = getOperationAST(document, operationName);
  return { name: operation?.name?.value, type: operation?.operation };
}

const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

function codeOf(error: { extensions?: Record<string, unknown> | undefined }): string {
  const code = error.extensions?.code;
  return typeof code === 'string' && ERROR_CODE.test(code) ? code : 'UNKNOWN';
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

export interface MetricsOptions {
  /**
   * Path the yoga plugin serves the metrics on, through the yoga handler; false to serve
   * `registry.metrics()` some other way (another port, behind auth).
   */
  endpoint?: string | false;
  /** Label values containing one of these are replaced, like log lines. */
  secrets?: readonly string[];
  /** Process metrics (CPU, memory, event-loop lag, open handles); on by default. */
  processMetrics?: boolean;
  /**
   * Distinct operation names kept as label values; later ones count as "Other". Operation names
   * come from clients, and every distinct name is a series held in memory forever.
   */
  maxOperationNames?: number;
}

export interface Metrics {
  registry: Registry;
  /** The yoga plugin that counts and times GraphQL requests and serves the endpoint. */
  yogaPlugin: Plugin;
  recordUpstreamCall(call: ObservedUpstreamCall): void;
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const LABEL_VALUE = /^[A-Za-z0-9_.:-]{1,64}$/;

interface OperationLabels {
  operationName?: string | undefined;
  operationType?: string | undefined;
}

/**
 * Metrics on a registry of their own, so several apps in one process (tests) never collide. Every
 * yoga metric is declared here rather than taken from the plugin's defaults, to control its labels:
 * no `url` (a GET's query string carries variables), no error `path` (aliases are client-chosen
 * and indices unbounded), and operation names bounded and checked.
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const scrub = createScrubber(options.secrets);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const maxOperationNames = options.maxOperationNames ?? 200;
  const operationNames = new Set<string>();
  function operationNameLabel(name: string | undefined): string {
    if (!name || name === 'Anonymous') return 'Anonymous';
    if (name.length > OPERATION_NAME_MAX || !GRAPHQL_NAME.test(name)) return 'Invalid';
    if (scrub(name) !== name) return REDACTED;
    if (operationNames.has(name)) return name;
    if (operationNames.size >= maxOperationNames) return 'Other';
    operationNames.add(name);
    return name;
  }
  function operationLabels(params: OperationLabels) {
    return {
      operationName: operationNameLabel(params.operationName),
      operationType: params.operationType ?? 'unknown',
    };
  }

  const operationLabelNames = ['operationName', 'operationType'];
  const requests = createCounter<'execute' | 'subscribe', string>({
    registry,
    counter: {
      name: 'graphql_envelop_request',
      help: 'GraphQL operations executed',
      labelNames: operationLabelNames,
    },
    fillLabelsFn: operationLabels,
  });
  const requestDuration = createHistogram<'execute' | 'subscribe', string>({
    registry,
    histogram: {
      name: 'graphql_envelop_request_duration',
      help: 'Time spent executing GraphQL operations, in seconds',
      labelNames: operationLabelNames,
      buckets: DURATION_BUCKETS,
    },
    fillLabelsFn: operationLabels,
  });
  type Phase = 'parse' | 'validate' | 'context' | 'execute' | 'subscribe';
  const errors = createCounter<Phase, string, FillLabelsFnParams & { error: unknown; errorPhase: Phase }>({
    registry,
    counter: {
      name: 'graphql_envelop_error_result',
      help: 'Errors in GraphQL results, by phase and code',
      labelNames: ['operationName', 'operationType', 'phase', 'code'],
    },
    fillLabelsFn: (params) => ({
      ...operationLabels(params),
      phase: params.errorPhase ?? 'unknown',
      code: errorCodeLabel(params.error, params.errorPhase),
    }),
  });
  const httpDuration = createHistogram<
    'request',
    string,
    FillLabelsFnParams & { document: DocumentNode; request: Request; response: Response }
  >({
    registry,
    histogram: {
      name: 'graphql_yoga_http_duration',
      help: 'Time spent on GraphQL HTTP requests, in seconds',
      labelNames: ['operationName', 'operationType', 'method', 'statusCode'],
      buckets: DURATION_BUCKETS,
    },
    fillLabelsFn: (params) => ({
      ...operationLabels(params),
      method: params.request.method,
      statusCode: params.response.status,
    }),
  });

  const yogaPlugin = usePrometheus({
    registry,
    endpoint: options.endpoint ?? '/metrics',
    metrics: {
      graphql_envelop_request: requests,
      graphql_envelop_request_duration: requestDuration,
      graphql_envelop_error_result: errors,
      graphql_yoga_http_duration: httpDuration,
      // The request duration above already covers execution; the other phases and the summary
      // would multiply the series for little insight here.
      graphql_envelop_request_time_summary: false,
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_phase_execute: false,
      graphql_envelop_phase_subscribe: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_schema_change: false,
      graphql_envelop_execute_resolver: false,
    },
  });

  const upstreamDuration = new Histogram({
    name: 'gateway_upstream_call_duration_seconds',
    help: 'Duration of calls to OpenAI, retries included, in seconds',
    labelNames: ['operation', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const upstreamCalls = new Counter({
    name: 'gateway_upstream_calls_total',
    help: 'Calls to OpenAI by operation, outcome (ok or an error code) and credential name',
    labelNames: ['operation', 'outcome', 'credential'] as const,
    registers: [registry],
  });
  function label(value: string | undefined, fallback: string): string {
    if (!value) return fallback;
    if (!LABEL_VALUE.test(value)) return 'invalid';
    return scrub(value) === value ? value : REDACTED;
  }

  return {
    registry,
    yogaPlugin,
    recordUpstreamCall(call) {
      const operation = label(call.operation, 'unknown');
      const outcome = label(call.outcome, 'unknown');
      upstreamDuration.observe({ operation, outcome }, call.durationMs / 1000);
      upstreamCalls.inc({ operation, outcome, credential: label(call.credential, 'default') });
    },
  };
}

function errorCodeLabel(error: unknown, phase: string | undefined): string {
  const code =
    typeof error === 'object' && error !== null
      ? (error as { extensions?: { code?: unknown } }).extensions?.code
      : undefined;
  if (typeof code === 'string' && ERROR_CODE.test(code)) return code;
  if (phase === 'parse') return 'GRAPHQL_PARSE_FAILED';
  if (phase === 'validate') return 'GRAPHQL_VALIDATION_FAILED';
  // Counted before masking: an error without a code here is one yoga masks, and the client saw
  // INTERNAL_SERVER_ERROR.
  return 'INTERNAL_SERVER_ERROR';
}
