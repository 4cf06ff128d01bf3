import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type OpenAI from 'openai';
import {
  type Access,
  createAccessControl,
  type GatewayToken,
  isUnpreflightedCrossSiteRequest,
} from './access.ts';
import type { Context } from './context.ts';
import { createLimitsPlugin, type QueryLimits } from './limits.ts';
import { isSubscriptionRequest } from './live/operation.ts';
import { LiveRegistry } from './live/registry.ts';
import {
  createLogger,
  createMetrics,
  createRequestLog,
  type LoggerOptions,
  logRequest,
  requestIdFrom,
  withRequestId,
  yogaLogger,
} from './observability.ts';
import { schema } from './schema/index.ts';
import { createLoaders } from './schema/loaders.ts';
import { parseUploadRequest } from './upload-request.ts';
import {
  createOpenAIClient,
  defaultUpstreamPolicy,
  Upstream,
  type UpstreamCall,
  type UpstreamCredential,
  type UpstreamPolicy,
} from './upstream/index.ts';

export interface AppOptions {
  /** Named upstream credentials; each request picks one (see access.ts). */
  credentials: ReadonlyMap<string, UpstreamCredential>;
  defaultCredential?: string;
  /** Gateway tokens, each allowed some credentials; none configured means no token is required. */
  tokens?: readonly GatewayToken[];
  /** Lets a caller send its own OpenAI key instead of using the gateway's credentials. Off by default. */
  allowCallerKeys?: boolean;
  policy?: Partial<UpstreamPolicy>;
  /** Deadline of one GraphQL operation; uploads get `uploadTimeoutMs` instead. */
  operationTimeoutMs?: number;
  uploadTimeoutMs?: number;
  /** The query GraphiQL opens with. */
  defaultQuery?: string;
  onUpstreamCall?: (call: UpstreamCall & { requestId: string; credential: string | null }) => void;
  /** Off only to measure what batching saves. */
  batching?: boolean;
  uploads?: Partial<UploadLimits>;
  /** Shape and upstream-cost limits, checked before execution (limits.ts has the defaults). */
  limits?: Partial<QueryLimits>;
  /** Structured JSON logs; keys and tokens are scrubbed from every line. Default: warnings and up. */
  log?: Omit<LoggerOptions, 'secrets'>;
  /** Serve Prometheus metrics at /metrics (default true). */
  metrics?: boolean;
  /** More envelop/yoga plugins. */
  plugins?: Array<Plugin | Plugin<Record<string, unknown>>>;
}

export interface UploadLimits {
  /** OpenAI's own limit is 512 MB per file. */
  maxFileBytes: number;
  maxFiles: number;
  /** The `operations` and `map` fields of a multipart request. */
  maxFieldBytes: number;
}

export const defaultUploadLimits: UploadLimits = {
  maxFileBytes: 512 * 1024 * 1024,
  maxFiles: 20,
  maxFieldBytes: 1024 * 1024,
};

/** JSON bodies; uploads are multipart and streamed, so this does not bound them. */
const MAX_JSON_BODY_BYTES = 2 * 1024 * 1024;
const DEFAULT_OPERATION_TIMEOUT_MS = 60_000;
const DEFAULT_UPLOAD_TIMEOUT_MS = 30 * 60_000;

type ServerContext = { req: IncomingMessage & { gateway?: GrantedRequest }; res: ServerResponse };

/** What the HTTP layer decided before GraphQL runs: who calls, with which credential. */
interface GrantedRequest {
  access: Extract<Access, { granted: true }>;
  client: OpenAI;
  isUpload: boolean;
}

export interface App {
  yoga: YogaServerInstance<ServerContext, Context>;
  uploadLimits: UploadLimits;
  /** Status pollers, shared by every subscription and waiting mutation of the process. */
  live: LiveRegistry;
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Readiness goes false, so load balancers stop sending work while in-flight requests finish. */
  beginDraining(): void;
}

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  if (res.headersSent) return;
  res
    .writeHead(status, { 'content-type': 'application/json', ...headers })
    .end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

/**
 * Yoga's request parsers leave three client mistakes without a clear answer: `variables` or
 * `extensions` that are not JSON in a GET or form-encoded request throw from JSON.parse and come
 * out as a masked 500 "Unexpected error."; a content type no parser takes gets an empty 415; and
 * invalid JSON bodies are answered with the parser's own error under `extensions.originalError`
 * (security.md case 22: no original error in any response).
 * Each becomes a 4xx whose message says what to fix.
 */
function clearRequestErrors(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (!requestParser) {
        // Other methods are refused with a 405 by yoga itself, after this hook.
        if (request.method !== 'POST') return;
        const type = request.headers.get('content-type') ?? 'none';
        setRequestParser(() => {
          throw new GraphQLError(
            `Unsupported content type '${type.slice(0, 100)}': send application/json, or multipart/form-data for uploads.`,
            { extensions: { code: 'UNSUPPORTED_MEDIA_TYPE', http: { status: 415 } } },
          );
        });
        return;
      }
      setRequestParser(async (incoming) => {
        try {
          return await requestParser(incoming);
        } catch (error) {
          if (error instanceof SyntaxError) {
            throw new GraphQLError('The `variables` or `extensions` parameter is not valid JSON.', {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
          // No internal error reaches a response, even the JSON parser's. Yoga chose a 400 because
          // of it, and would answer 200 without it: the status is kept.
          if (error instanceof GraphQLError && error.extensions.originalError !== undefined) {
            const { originalError: _hidden, http: _http, ...extensions } = error.extensions;
            throw new GraphQLError(error.message, { extensions: { ...extensions, http: { status: 400 } } });
          }
          throw error;
        }
      });
    },
  };
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

/** Builds the HTTP handler from its dependencies; the process entry (server.ts) only listens. */
export function createApp(options: AppOptions): App {
  const policy = { ...defaultUpstreamPolicy, ...options.policy };
  const uploadLimits = { ...defaultUploadLimits, ...options.uploads };
  const defaultCredential = options.defaultCredential ?? [...options.credentials.keys()][0];
  if (defaultCredential === undefined || !options.credentials.has(defaultCredential)) {
    throw new Error('createApp needs at least one credential, and the default must be one of them.');
  }
  // One client per credential for the life of the process: it owns the connection pool and the
  // credential's upstream concurrency limit.
  const clients = new Map(
    [...options.credentials].map(([name, credential]) => [name, createOpenAIClient(credential, policy)]),
  );
  const callerKeyBaseURL = options.credentials.get(defaultCredential)?.baseURL;
  const access = createAccessControl({
    credentialNames: [...options.credentials.keys()],
    defaultCredential,
    tokens: options.tokens ?? [],
    allowCallerKeys: options.allowCallerKeys ?? false,
  });
  let draining = false;
  const arrivals = new WeakMap<IncomingMessage, { requestId: string; started: number }>();
  // Every secret the process holds, so no log line or metric label can carry one.
  const secrets = [
    ...[...options.credentials.values()].map((credential) => credential.apiKey),
    ...(options.tokens ?? []).map((token) => token.secret),
  ];
  const logger = createLogger({ level: 'warn', ...options.log, secrets });
  const requestLog = createRequestLog(logger, { responseHeader: false });
  const metrics = options.metrics === false ? undefined : createMetrics({ secrets });
  // Pollers are shared across requests and outlive the one that started them; their calls are
  // reported under the poller's id.
  const live = new LiveRegistry({
    policy,
    onCall: (call, poller) => {
      metrics?.recordUpstreamCall({ ...call, credential: poller.credential ?? 'caller-key' });
      options.onUpstreamCall?.({ ...call, requestId: poller.id, credential: poller.credential });
    },
  });

  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Yoga's own multipart parser buffers whole files in memory; uploads are streamed instead.
    multipart: false,
    maxRequestBodySize: MAX_JSON_BODY_BYTES,
    graphiql: {
      title: 'vector-store-gateway',
      defaultQuery: options.defaultQuery,
      // GraphiQL sends subscriptions as GETs unless told otherwise, which the CSRF check refuses.
      method: 'POST',
    },
    // GraphiQL from the package rather than a CDN, so it works offline.
    renderGraphiQL,
    maskedErrors: { isDev: false },
    // Yoga logs the originals of masked errors; OpenAI's 401 text among them echoes part of a key.
    logging: yogaLogger(logger),
    plugins: [
      // First, so every request gets its log line whatever a later plugin does.
      requestLog.plugin,
      ...(metrics ? [metrics.yogaPlugin] : []),
      clearRequestErrors(),
      createLimitsPlugin(options.limits),
      ...(options.plugins ?? []),
    ],
    context: ({ request, req, params }): Context => {
      const granted = req.gateway;
      // Every request reaches here through handle(), which grants or refuses it first.
      if (!granted) throw new Error('Request reached GraphQL without an access decision.');
      const trace = requestLog.trace(request);
      const { requestId } = trace;
      const credential = granted.access.credential;
      const deadline = AbortSignal.timeout(
        granted.isUpload
          ? (options.uploadTimeoutMs ?? DEFAULT_UPLOAD_TIMEOUT_MS)
          : (options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS),
      );
      const onCall = options.onUpstreamCall;
      // A subscription ends at its own deadline; the operation's would cut its later events.
      const subscription = isSubscriptionRequest(params);
      const upstream = new Upstream(
        granted.client,
        policy,
        subscription ? request.signal : AbortSignal.any([request.signal, deadline]),
        (call) => {
          trace.recordUpstreamCall(call);
          // The credential's name, never its key; a caller's own key is counted as such.
          metrics?.recordUpstreamCall({ ...call, credential: credential ?? 'caller-key' });
          onCall?.({ ...call, requestId, credential });
        },
      );
      return {
        requestId,
        upstream,
        loaders: createLoaders(upstream, { batching: options.batching ?? true }),
        uploadLimits,
        live: live.session({
          credential,
          callerKey: granted.access.callerKey,
          client: granted.client,
          signal: request.signal,
        }),
        credential: { name: credential, available: granted.access.available },
      };
    },
  });

  /** Answers a request refused before GraphQL, and logs it as the request log would. */
  function refuse(
    req: ServerContext['req'],
    res: ServerResponse,
    refusal: { status: number; code: string; message: string; headers?: Record<string, string> },
  ): void {
    sendError(res, refusal.status, refusal.code, refusal.message, refusal.headers);
    const arrival = arrivals.get(req);
    logRequest(logger, {
      requestId: arrival?.requestId ?? requestIdFrom(req.headers['x-request-id']),
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0] ?? '/',
      status: refusal.status,
      durationMs: arrival ? performance.now() - arrival.started : 0,
      upstreamCalls: 0,
      upstreamRequestIds: [],
      errors: [refusal.code],
    });
  }

  function grant(req: ServerContext['req'], res: ServerResponse, isUpload: boolean): boolean {
    const decision = access(req.headers);
    if (!decision.granted) {
      const headers: Record<string, string> = decision.status === 401 ? { 'www-authenticate': 'Bearer' } : {};
      refuse(req, res, { ...decision, headers });
      return false;
    }
    const client =
      decision.credential === null
        ? createOpenAIClient({ apiKey: decision.callerKey, baseURL: callerKeyBaseURL }, policy)
        : clients.get(decision.credential);
    if (!client) throw new Error(`No client for credential ${decision.credential}`);
    req.gateway = { access: decision, client, isUpload };
    return true;
  }

  async function handleMultipart(req: ServerContext['req'], res: ServerResponse): Promise<void> {
    try {
      const operations = await parseUploadRequest(req, res, {
        // One byte over the limit is enough to know a file is too large; the resolver checks.
        maxFileSize: uploadLimits.maxFileBytes + 1,
        maxFiles: uploadLimits.maxFiles,
        maxFieldSize: uploadLimits.maxFieldBytes,
      });
      // The body is consumed: yoga reads the parsed operations, and must not hold the streamed
      // files' Content-Length against its JSON body limit.
      Object.assign(req, { body: operations });
      delete req.headers['content-length'];
    } catch (error) {
      const status =
        typeof (error as { status?: unknown }).status === 'number'
          ? (error as { status: number }).status
          : 400;
      const message = error instanceof Error ? error.message : 'Invalid multipart request.';
      refuse(req, res, { status, code: status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', message });
      return;
    }
    await yoga.requestListener(req, res);
  }

  return {
    yoga,
    uploadLimits,
    live,
    beginDraining() {
      draining = true;
      // Subscriptions last minutes, longer than any grace period: they end now, with a reason.
      live.stopAll();
    },
    handle(req: ServerContext['req'], res) {
      const requestId = requestIdFrom(req.headers['x-request-id']);
      arrivals.set(req, { requestId, started: performance.now() });
      res.setHeader('x-request-id', requestId);
      closeIfBodyUnread(req, res);
      // Everything logged on this request's behalf, yoga's masked errors included, carries its id.
      withRequestId(requestId, () => dispatch(req, res));
    },
  };

  function dispatch(req: ServerContext['req'], res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (path === '/ready') {
      res
        .writeHead(draining ? 503 : 200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: draining ? 'draining' : 'ready' }));
      return;
    }
    if (path !== '/graphql') {
      void yoga.requestListener(req, res);
      return;
    }
    if (isUnpreflightedCrossSiteRequest(req.method, req.url, req.headers)) {
      refuse(req, res, {
        status: 403,
        code: 'CSRF_PREFLIGHT_REQUIRED',
        message:
          'This request could have been sent by another site: add a header such as `x-graphql-yoga-csrf: 1`, `apollo-require-preflight: true` or `graphql-preflight: 1`, or send JSON.',
      });
      return;
    }
    // GraphiQL itself is a static page; the operations it sends carry the token like any other.
    const isGraphiQLPage =
      req.method === 'GET' && !new URL(req.url ?? '/', 'http://gateway').searchParams.has('query');
    if (isGraphiQLPage) {
      void yoga.requestListener(req, res);
      return;
    }
    const isUpload =
      req.method === 'POST' && /^multipart\/form-data/i.test(req.headers['content-type'] ?? '');
    // Access is decided before an upload body is read, so a refused caller streams nothing.
    if (!grant(req, res, isUpload)) return;
    if (isUpload) void handleMultipart(req, res);
    else void yoga.requestListener(req, res);
  }
}
