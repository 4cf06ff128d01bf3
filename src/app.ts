import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { createYoga } from 'graphql-yoga';
import type { App, AppOptions } from './app-types.ts';
import { type Context, createRequestContexts, defaultDeadlines } from './context.ts';
import { nodeRequestListener } from './http/node.ts';
import { hostPolicy, originPolicy } from './http/origins.ts';
import { useRoutes } from './http/routes.ts';
import { useAccess, useMetricsToken } from './http/use-access.ts';
import { useBodyLimit } from './http/use-body-limit.ts';
import { corsOptions, useHostCheck, useVaryOrigin } from './http/use-browser-access.ts';
import { useFileContent } from './http/use-file-content.ts';
import { useGraphiQL } from './http/use-graphiql.ts';
import { BUILT_IN_HEALTH_CHECK_OFF, useLifecycle } from './http/use-lifecycle.ts';
import { trustedDocumentsOf, usePersisted } from './http/use-persisted-operations.ts';
import { useQueryLimits } from './http/use-query-limits.ts';
import { useRequestErrors } from './http/use-request-errors.ts';
import { useRequestLog } from './http/use-request-log.ts';
import { type NodeServerContext, useUploads } from './http/use-uploads.ts';
import { LiveRegistry } from './live/registry.ts';
import { createObservability, secretsOf } from './observability/index.ts';
import { yogaLogger } from './observability/logger.ts';
import { schema } from './schema/index.ts';
import { defaultUploadLimits } from './uploads/parse.ts';
import { createUpstreamClients, defaultUpstreamPolicy, type UpstreamCall } from './upstream/index.ts';
import { leftoverUndo } from './upstream/leftover-undo.ts';

export type { App, AppOptions, OperationEdge } from './app-types.ts';

/** Composes the gateway from its plugins and dependencies; the process entry (server.ts) only listens. */
export function createApp(options: AppOptions): App {
  const policy = { ...defaultUpstreamPolicy, ...options.policy };
  const uploadLimits = { ...defaultUploadLimits, ...options.uploads };
  const { sharing } = options;
  const clients = createUpstreamClients(options.credentials, policy, options.defaultCredential, sharing);
  const origins = originPolicy(options.cors?.origins);
  const hosts = hostPolicy({ tokens: (options.tokens?.length ?? 0) > 0, allowedHosts: options.allowedHosts });
  const access = useAccess(
    { ...options, credentialNames: clients.names, defaultCredential: clients.defaultName },
    clients,
  );
  const metricsToken = options.metrics ? options.metrics.token : undefined;
  const secrets = secretsOf(options.credentials.values(), options.tokens, metricsToken);
  const { logger, metrics } = createObservability({ secrets, log: options.log, metrics: options.metrics });
  const requestLog = useRequestLog(logger);
  const lifecycle = useLifecycle();
  const persisted = usePersisted(trustedDocumentsOf(options.trustedDocuments, schema));
  // The credential's name, never its key; a caller's own key is counted as such.
  const report = (call: UpstreamCall, requestId: string, credential: string | null) => {
    metrics?.recordUpstreamCall({ ...call, credential: credential ?? 'caller-key' });
    options.onUpstreamCall?.({ ...call, requestId, credential });
  };
  sharing?.leftovers?.sweep(leftoverUndo(clients, policy, (call, name) => report(call, 'leftovers', name)));
  // Pollers outlive the request that started them; their calls are reported under the poller's id.
  const live = new LiveRegistry({
    policy,
    limits: options.live,
    sharing: sharing?.polls,
    caps: sharing?.caps,
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
