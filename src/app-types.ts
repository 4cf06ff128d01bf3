/**
 * What the gateway is composed from and what it offers its transports (app.ts composes it):
 * the options a process gives it, and the app a server listens with.
 */
import type { RequestListener } from 'node:http';
import type { Plugin, YogaServerInstance } from 'graphql-yoga';
import type { Access, AccessControl, GatewayToken, HeaderReader } from './access.ts';
import type { Context, Deadlines } from './context.ts';
import type { HostPolicy, OriginPolicy } from './http/origins.ts';
import type { PersistedOperations } from './http/use-persisted-operations.ts';
import type { QueryLimits } from './http/use-query-limits.ts';
import type { NodeServerContext } from './http/use-uploads.ts';
import type { LiveLimits, LiveRegistry } from './live/registry.ts';
import type { PollSharing, SharedCaps } from './live/sharing.ts';
import type { Logger, LoggerOptions } from './observability/logger.ts';
import type { OperationOutcome } from './observability/request-log.ts';
import type { UploadLimits } from './uploads/parse.ts';
import type {
  LeftoverSharing,
  PacingSource,
  ReadCache,
  UpstreamCall,
  UpstreamCredential,
  UpstreamPolicy,
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
  /**
   * What this process shares with the other replicas of the gateway (with `REDIS_URL`, see
   * src/replicas/); without it, every process keeps its own.
   */
  sharing?: ReplicaSharing;
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

/** The pieces replicas share, each behind its interface. */
export interface ReplicaSharing {
  /** One status poller per (credential, object) across replicas. */
  polls?: PollSharing;
  /** Each credential's concurrency limit and 429 cool-down, counted across replicas. */
  pacing?: PacingSource;
  /** The caps on watches per credential and per token, counted across replicas. */
  caps?: SharedCaps;
  /** Reads answered for every replica (off unless RESPONSE_CACHE_TTL_MS is set). */
  readCache?: ReadCache;
  /** What each replica's uploads leave until answered, undone by the survivors if it dies. */
  leftovers?: LeftoverSharing;
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
