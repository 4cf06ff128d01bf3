/** Prometheus metrics of GraphQL requests and upstream calls, on a registry of their own. */
import {
  createCounter,
  createHistogram,
  type FillLabelsFnParams,
  usePrometheus,
} from '@graphql-yoga/plugin-prometheus';
import type { DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { ERROR_CODE, type ObservedUpstreamCall, OPERATION_NAME_MAX } from './request-log.ts';
import { createScrubber, REDACTED } from './scrub.ts';

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
  /**
   * Label upstream calls with the credential's name. Off by default: the names say which teams or
   * projects the gateway serves, to whoever can read the metrics.
   */
  credentialLabels?: boolean;
}

export interface Metrics {
  registry: Registry;
  /** The yoga plugin that counts and times GraphQL requests and serves the endpoint. */
  yogaPlugin: Plugin;
  recordUpstreamCall(call: ObservedUpstreamCall): void;
  /**
   * Counts one more open WebSocket connection until the returned function is called. Operations
   * over WebSockets are counted by the GraphQL metrics above; the HTTP duration never sees them.
   */
  websocketOpened(): () => void;
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
    help: 'Calls to OpenAI by operation, outcome (ok or an error code) and, when enabled, credential name',
    labelNames: options.credentialLabels
      ? (['operation', 'outcome', 'credential'] as const)
      : (['operation', 'outcome'] as const),
    registers: [registry],
  });
  const websocketConnections = new Gauge({
    name: 'gateway_websocket_connections',
    help: 'Open GraphQL WebSocket connections (graphql-transport-ws)',
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
      if (options.credentialLabels) {
        upstreamCalls.inc({ operation, outcome, credential: label(call.credential, 'default') });
      } else {
        upstreamCalls.inc({ operation, outcome });
      }
    },
    websocketOpened() {
      websocketConnections.inc();
      let open = true;
      return () => {
        if (open) websocketConnections.dec();
        open = false;
      };
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
