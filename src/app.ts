import type { RequestListener } from 'node:http';
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Access, AccessControl, GatewayToken, HeaderReader } from './access.ts';
import { type Context, createRequestContexts, type Deadlines, defaultDeadlines } from './context.ts';
import { nodeRequestListener } from './http/node.ts';
import { type HostPolicy, hostPolicy, type OriginPolicy, originPolicy } from './http/origins.ts';
import { useRoutes } from './http/routes.ts';
import { useAccess, useMetricsToken } from './http/use-access.ts';
import { useBodyLimit } from './http/use-body-limit.ts';
import { corsOptions, useHostCheck, useVaryOrigin } from './http/use-browser-access.ts';
import { useFileContent } from './http/use-file-content.ts';
import { useGraphiQL } from './http/use-graphiql.ts';
import { BUILT_IN_HEALTH_CHECK_OFF, useLifecycle } from './http/use-lifecycle.ts';
import {
  type PersistedOperations,
  parseTrustedDocuments,
  usePersisted,
} from './http/use-persisted-operations.ts';
import { type QueryLimits, useQueryLimits } from './http/use-query-limits.ts';
import { useRequestErrors } from './http/use-request-errors.ts';
import { useRequestLog } from './http/use-request-log.ts';
import { type NodeServerContext, useUploads } from './http/use-uploads.ts';
import { type LiveLimits, LiveRegistry } from './live/registry.ts';
import { createObservability } from './observability/index.ts';
import { type Logger, type LoggerOptions, yogaLogger } from './observability/logger.ts';
import type { OperationOutcome } from './observability/request-log.ts';
import { schema } from './schema/index.ts';
import { defaultUploadLimits, type UploadLimits } from './uploads/parse.ts';
import {
  createUpstreamClients,
  defaultUpstreamPolicy,
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
  /**
   * Origins of pages elsewhere allowed to call the gateway from a browser (CORS, and WebSocket
   * upgrades); none by default.
   */
  cors?: { origins?: readonly string[] };
  /** Host names a gateway without tokens answers besides loopback ones (DNS rebinding). */
  allowedHosts?: readonly string[];
  /** Lets a caller send its own OpenAI key instead of using the gateway's credentials. Off by default. */
  allowCallerKeys?: boolean;
  policy?: Partial<UpstreamPolicy>;
  deadlines?: Partial<Deadlines>;
  /**
   * Where clients reach the gateway (`https://api.example.com/vs`), for the links in answers
   * (`File.contentUrl`); by default the origin each request came to.
   */
  publicUrl?: string;
  /** The query GraphiQL opens with. */
  defaultQuery?: string;
  onUpstreamCall?: (call: UpstreamCall & { requestId: string; credential: string | null }) => void;
  /** Off only to measure what batching saves. */
  batching?: boolean;
  /** Caps on live status per credential and token, and the poll rate (live/registry.ts). */
  live?: Partial<LiveLimits>;
  uploads?: Partial<UploadLimits>;
  /**
   * Trusted documents, `{ "<id>": "<document>" }` as Relay or GraphQL Code Generator write them:
   * only these operations run, named by id, and APQ is off. Without them, APQ is on.
   */
  trustedDocuments?: Readonly<Record<string, string>>;
  /** Shape and upstream-cost limits, checked before execution. */
  limits?: Partial<QueryLimits>;
  /** Structured JSON logs; keys and tokens are scrubbed from every line. Default: warnings and up. */
  log?: Omit<LoggerOptions, 'secrets'>;
  /** Prometheus metrics at /metrics (on unless false): the token they need, credential labels. */
  metrics?: false | { token?: string | undefined; credentialLabels?: boolean };
  /** More envelop/yoga plugins. */
  plugins?: Array<Plugin | Plugin<Record<string, unknown>>>;
}

export interface App {
  yoga: YogaServerInstance<NodeServerContext, Context>;
  /** For `http.createServer`: the yoga handler behind the Node-only checks. */
  handle: RequestListener;
  /** Status pollers, shared by every subscription and waiting mutation of the process. */
  live: LiveRegistry;
  /** The origins allowed cross-origin, for every transport. */
  origins: OriginPolicy;
  /** The `Host` names answered, for every transport. */
  hosts: HostPolicy;
  /** Which persisted-operation mode runs, and its rule for transports outside yoga's HTTP hooks. */
  persisted: Pick<PersistedOperations, 'mode' | 'resolve'>;
  /** Aborts when draining begins: long-lived connections (WebSockets) end on it. */
  draining: AbortSignal;
  /** What a transport outside yoga's HTTP hooks needs to serve operations as HTTP does. */
  operations: OperationEdge;
  /** Readiness goes false, so load balancers stop sending work while in-flight requests finish. */
  beginDraining(): void;
  /** Resolves once no operation executes (their clean-up done), or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean>;
}

/**
 * The edge for operations that reach yoga through `getEnveloped` rather than its HTTP handler
 * (graphql-ws, http/websocket.ts): yoga's envelop hooks run for them (limits, masking, metrics,
 * the context factory), its HTTP hooks (access, the request log) do not, so they are offered
 * here. Each operation stands for itself with a `Request` of its own, the key every per-request
 * record (grant, trace, deadline) is kept under.
 */
export interface OperationEdge {
  /** The access decision, for a connection as it opens. */
  decide: AccessControl;
  /** Decides for one operation and records its grant, for the context factory. */
  admit(request: Request, header: HeaderReader): Access;
  /** Error codes of a result sent, for the operation's log line. */
  recordErrors(
    request: Request,
    errors: ReadonlyArray<{ extensions?: Record<string, unknown> | undefined }>,
  ): void;
  /** The operation is over: its deadline is released and its log line written. */
  settle(request: Request, details: { connectionId: string; outcome: OperationOutcome }): void;
  /** Counts an open WebSocket connection (in the metrics, when on) until the returned function runs. */
  connectionOpened(): () => void;
  /** The process's logger, which scrubs secrets, for what the transport itself has to say. */
  logger: Logger;
}

/** Composes the gateway from its plugins and dependencies; the process entry (server.ts) only listens. */
export function createApp(options: AppOptions): App {
  const policy = { ...defaultUpstreamPolicy, ...options.policy };
  const uploadLimits = { ...defaultUploadLimits, ...options.uploads };
  const clients = createUpstreamClients(options.credentials, policy, options.defaultCredential);
  const origins = originPolicy(options.cors?.origins);
  const hosts = hostPolicy({ tokens: (options.tokens?.length ?? 0) > 0, allowedHosts: options.allowedHosts });
  const access = useAccess(
    { ...options, credentialNames: clients.names, defaultCredential: clients.defaultName },
    clients,
  );
  // Every secret the process holds, so no log line or metric label can carry one.
  const secrets = [...options.credentials.values()].map((credential) => credential.apiKey);
  for (const token of options.tokens ?? []) secrets.push(token.secret);
  const metricsToken = options.metrics ? options.metrics.token : undefined;
  if (metricsToken) secrets.push(metricsToken);
  const { logger, metrics } = createObservability({ secrets, log: options.log, metrics: options.metrics });
  const requestLog = useRequestLog(logger);
  const lifecycle = useLifecycle();
  const persisted = usePersisted(trustedDocumentsOf(options));
  // The credential's name, never its key; a caller's own key is counted as such.
  const report = (call: UpstreamCall, requestId: string, credential: string | null) => {
    metrics?.recordUpstreamCall({ ...call, credential: credential ?? 'caller-key' });
    options.onUpstreamCall?.({ ...call, requestId, credential });
  };
  // Pollers outlive the request that started them; their calls are reported under the poller's id.
  const live = new LiveRegistry({
    policy,
    limits: options.live,
    onCall: (call, poller) => report(call, poller.id, poller.credential),
  });
  const contexts = createRequestContexts({
    policy,
    deadlines: { ...defaultDeadlines, ...options.deadlines },
    uploadLimits,
    live,
    publicUrl: options.publicUrl,
    batching: options.batching ?? true,
    grantOf: access.grantOf,
    requestIdOf: (request) => requestLog.trace(request).requestId,
    onUpstreamCall(call, { request, requestId, credential }) {
      requestLog.trace(request).recordUpstreamCall(call);
      report(call, requestId, credential);
    },
  });
  const yoga = createYoga<NodeServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: BUILT_IN_HEALTH_CHECK_OFF,
    landingPage: false,
    graphiql: false,
    multipart: false,
    maxRequestBodySize: false,
    maskedErrors: { isDev: false },
    cors: corsOptions(origins),
    // Yoga logs the originals of masked errors; OpenAI's 401 text among them echoes part of a key.
    logging: yogaLogger(logger),
    context: contexts.build,
    // In the order a request meets them.
    plugins: [
      requestLog.plugin,
      useHostCheck(hosts),
      useRoutes(),
      useVaryOrigin(),
      lifecycle.health,
      ...(metrics ? [useMetricsToken(metricsToken), metrics.yogaPlugin] : []),
      useGraphiQL({ defaultQuery: options.defaultQuery }),
      access.plugin,
      useFileContent(contexts.upstreamFor),
      useUploads(uploadLimits),
      useBodyLimit(),
      useRequestErrors(),
      // Resolves a persisted id to its document (or refuses it) once the body is parsed, uploads'
      // included, so the limits below parse, validate and price the document that will run.
      persisted.plugin,
      useQueryLimits(options.limits),
      // Incremental delivery (multipart/mixed, or SSE): the rest first, the deferred parts after.
      useDeferStream(),
      contexts.plugin,
      lifecycle.inFlight,
      ...(options.plugins ?? []),
    ],
  });
  const draining = new AbortController();
  return {
    yoga,
    handle: nodeRequestListener(yoga, uploadLimits),
    live,
    origins,
    hosts,
    persisted: { mode: persisted.mode, resolve: persisted.resolve },
    draining: draining.signal,
    operations: {
      decide: access.decide,
      admit: access.admit,
      recordErrors: requestLog.recordErrors,
      settle(request, details) {
        contexts.release(request);
        const credential = access.grantOf(request)?.access.credential;
        requestLog.operationDone(request, {
          ...details,
          transport: 'websocket',
          credential: credential === undefined ? 'none' : (credential ?? 'caller-key'),
        });
      },
      connectionOpened: () => metrics?.websocketOpened() ?? (() => {}),
      logger,
    },
    beginDraining() {
      lifecycle.drain();
      draining.abort();
      // Subscriptions last minutes, longer than any grace period: they end now, with a reason.
      live.stopAll();
    },
    idle: lifecycle.idle,
  };
}

function trustedDocumentsOf(options: AppOptions): ReadonlyMap<string, string> | undefined {
  if (!options.trustedDocuments) return undefined;
  try {
    return parseTrustedDocuments(options.trustedDocuments, schema);
  } catch (error) {
    throw new Error(`Trusted documents: ${(error as Error).message}`);
  }
}
