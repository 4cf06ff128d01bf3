import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { createApp } from './app.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { DEFAULT_QUERY, seedDemo } from './demo.ts';
import type { Emulator } from './emulator/index.ts';
import { nodeServerOptions } from './http/node.ts';
import { attachWebSocket } from './http/websocket.ts';
import type { UpstreamCredential } from './upstream/index.ts';

/** At most this much of the shutdown grace is kept for clean-up after cutting requests off. */
const MAX_CLEANUP_RESERVE_MS = 5_000;

/** The key the SDK needs even against the emulator, which accepts any. */
const EMULATOR_KEY = 'sk-emulator-local';

/** Credentials that name the embedded emulator share one, started on loopback and filled with demo data. */
async function resolveCredentials(
  config: Config,
): Promise<{ credentials: Map<string, UpstreamCredential>; emulator?: Emulator }> {
  const credentials = new Map<string, UpstreamCredential>();
  let emulator: { instance: Emulator; baseURL: string } | undefined;
  for (const [name, credential] of config.credentials) {
    if (credential.kind === 'openai') {
      credentials.set(name, credential);
      console.log(`Credential '${name}': ${credential.baseURL ?? 'https://api.openai.com/v1'}`);
      continue;
    }
    if (!emulator) {
      // Loaded only here: a gateway in front of OpenAI keeps the emulator's code out of memory.
      const { createEmulator } = await import('./emulator/index.ts');
      const instance = createEmulator({ processingDelayMs: config.settings.EMULATOR_PROCESSING_DELAY_MS });
      const { baseURL } = await instance.listen({ port: 0, host: '127.0.0.1' });
      await seedDemo(new OpenAI({ apiKey: EMULATOR_KEY, baseURL }));
      emulator = { instance, baseURL };
    }
    const { baseURL } = emulator;
    credentials.set(name, { apiKey: EMULATOR_KEY, baseURL });
    console.log(
      `Credential '${name}': the embedded OpenAI emulator at ${baseURL}, with demo data (no API key configured)`,
    );
  }
  return emulator ? { credentials, emulator: emulator.instance } : { credentials };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const { settings } = config;
  const { credentials, emulator } = await resolveCredentials(config);
  // Loaded only with REDIS_URL: a single process needs neither Redis nor its client.
  const replicas = settings.REDIS_URL
    ? await (await import('./replicas/index.ts')).connectReplicas(settings.REDIS_URL, {
        callTimeoutMs: settings.UPSTREAM_TIMEOUT_MS,
        readCacheTtlMs: settings.RESPONSE_CACHE_TTL_MS,
        storeWritesPerMinute: settings.STORE_WRITES_PER_MINUTE,
      })
    : undefined;

  const app = createApp({
    credentials,
    defaultCredential: config.defaultCredential,
    tokens: config.tokens,
    cors: { origins: config.corsOrigins },
    allowedHosts: config.allowedHosts,
    allowCallerKeys: settings.ALLOW_CALLER_KEYS,
    defaultQuery: DEFAULT_QUERY,
    ...(replicas ? { sharing: replicas.sharing } : {}),
    publicUrl: settings.PUBLIC_URL,
    ...(config.trustedDocuments ? { trustedDocuments: config.trustedDocuments } : {}),
    log: { level: settings.LOG_LEVEL },
    metrics: { token: settings.METRICS_TOKEN, credentialLabels: settings.METRICS_CREDENTIAL_LABELS },
    deadlines: { operationMs: settings.OPERATION_TIMEOUT_MS, uploadMs: settings.UPLOAD_TIMEOUT_MS },
    policy: {
      callTimeoutMs: settings.UPSTREAM_TIMEOUT_MS,
      readRetries: settings.UPSTREAM_READ_RETRIES,
      maxRetryAfterSeconds: settings.UPSTREAM_MAX_RETRY_AFTER_SECONDS,
      concurrency: settings.UPSTREAM_CONCURRENCY,
      storeWritesPerMinute: settings.STORE_WRITES_PER_MINUTE,
    },
    uploads: {
      maxFileBytes: settings.MAX_UPLOAD_FILE_BYTES,
      maxPartedFileBytes: settings.MAX_PARTED_UPLOAD_BYTES,
      partedUploadBytes: settings.PARTED_UPLOAD_BYTES,
      maxFiles: settings.MAX_UPLOAD_FILES,
    },
    live: {
      watchesPerCredential: settings.MAX_SUBSCRIPTIONS_PER_CREDENTIAL,
      watchesPerToken: settings.MAX_SUBSCRIPTIONS_PER_TOKEN,
      pollersPerCredential: settings.MAX_POLLED_OBJECTS_PER_CREDENTIAL,
      pollsPerSecond: settings.POLLS_PER_SECOND_PER_CREDENTIAL,
    },
    limits: {
      maxDepth: settings.MAX_QUERY_DEPTH,
      maxAliases: settings.MAX_QUERY_ALIASES,
      maxTokens: settings.MAX_QUERY_TOKENS,
      maxDirectives: settings.MAX_QUERY_DIRECTIVES,
      maxUpstreamCalls: settings.MAX_UPSTREAM_CALLS_PER_OPERATION,
    },
  });
  const server = createServer(nodeServerOptions(settings.UPLOAD_TIMEOUT_MS), app.handle);
  const websocket = attachWebSocket(server, app);
  await new Promise<void>((resolve) => server.listen(settings.PORT, settings.HOST, resolve));
  const { port } = server.address() as AddressInfo;
  console.log(`GraphQL endpoint and GraphiQL: http://${settings.HOST}:${port}/graphql`);
  console.log(`Subscriptions over WebSocket (graphql-ws): ws://${settings.HOST}:${port}/graphql`);
  if (replicas) console.log(`Sharing with other replicas through Redis, as replica ${replicas.replicaId}`);
  if (config.tokens.length > 0) console.log(`Gateway tokens required (${config.tokens.length} configured)`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: draining in-flight requests for up to ${settings.SHUTDOWN_GRACE_MS} ms`);
    app.beginDraining();
    const exitBy = Date.now() + settings.SHUTDOWN_GRACE_MS;
    // `/ready` answers 503 from now on, but a load balancer only sees it if the gateway still
    // accepts connections: new requests are served for a while (at most half the grace) before
    // the listener closes, so the balancer stops sending work instead of meeting refused
    // connections.
    const readyDelay = Math.min(settings.SHUTDOWN_READY_DELAY_MS, settings.SHUTDOWN_GRACE_MS / 2);
    setTimeout(() => close(exitBy), readyDelay);
  };
  const close = (exitBy: number) => {
    // Keep-alive sockets turn idle as their requests finish; close them as they do.
    const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
    // Requests still running near the end (long uploads) are cut, early enough that what they
    // created upstream can still be cleaned up: their uploads abort, and the files already
    // uploaded are deleted before the process exits.
    const cleanupReserve = Math.min(settings.SHUTDOWN_GRACE_MS / 2, MAX_CLEANUP_RESERVE_MS);
    // Upgraded sockets are no longer the HTTP server's to close: the WebSocket edge ends its own
    // (each already closes with 1001 as its subscriptions end).
    const cut = setTimeout(
      () => {
        server.closeAllConnections();
        void websocket.close();
      },
      exitBy - cleanupReserve - Date.now(),
    );
    server.close(() => {
      clearInterval(idleSweep);
      clearTimeout(cut);
      void app
        .idle(Math.max(0, exitBy - Date.now()))
        .then(() => emulator?.close())
        .then(() => replicas?.close())
        .finally(() => process.exit(0));
    });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(
    error instanceof ConfigError
      ? error.message
      : `Failed to start: ${error instanceof Error ? error.message : error}`,
  );
  process.exit(1);
});
