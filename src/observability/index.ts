import { createLogger, type Logger, type LoggerOptions } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';

export interface ObservabilityOptions {
  /** Every secret the process holds (keys, tokens): no log line or metric label may carry one. */
  secrets: readonly string[];
  log?: Omit<LoggerOptions, 'secrets'> | undefined;
  /** Metrics unless false; credential names on them only when asked. */
  metrics?: false | { credentialLabels?: boolean | undefined } | undefined;
}

/** Every secret the process holds (keys, tokens), so no log line or metric label can carry one. */
export function secretsOf(
  credentials: Iterable<{ apiKey: string }>,
  tokens: ReadonlyArray<{ secret: string }> = [],
  metricsToken?: string,
): string[] {
  const secrets = [...credentials].map((credential) => credential.apiKey);
  secrets.push(...tokens.map((token) => token.secret));
  if (metricsToken) secrets.push(metricsToken);
  return secrets;
}

/** The process's logger (warnings and up unless told) and metrics registry. */
export function createObservability(options: ObservabilityOptions): { logger: Logger; metrics?: Metrics } {
  const logger = createLogger({ level: 'warn', ...options.log, secrets: options.secrets });
  if (options.metrics === false) return { logger };
  const metrics = createMetrics({
    secrets: options.secrets,
    credentialLabels: options.metrics?.credentialLabels ?? false,
  });
  return { logger, metrics };
}
