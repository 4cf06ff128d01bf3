/** What the observability tests share: canary secrets, a capturing logger, a tiny yoga. */
import { randomInt } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { createSchema, createYoga, type YogaInitialContext } from 'graphql-yoga';
import { expect } from 'vitest';
import { maskKey } from '../../src/emulator/errors.ts';
import type { RequestLog } from '../../src/http/use-request-log.ts';
import { createLogger, type Logger, yogaLogger } from '../../src/observability/logger.ts';
import type { createMetrics } from '../../src/observability/metrics.ts';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function randomText(length: number): string {
  return Array.from({ length }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');
}

export const CANARY_KEY = `sk-canary-${randomText(32)}`;
export const CANARY_TOKEN = `gwt_${randomText(32)}`;
/** A token that JSON and URLs both have to escape. */
export const AWKWARD_TOKEN = `tok"en/${randomText(24)}\\end`;
export const SECRETS = [CANARY_TOKEN, AWKWARD_TOKEN];

export function expectNoSecrets(text: string): void {
  for (const secret of [CANARY_KEY, CANARY_TOKEN, AWKWARD_TOKEN]) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice(-8));
    expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(text).not.toContain(encodeURIComponent(secret));
  }
  expect(text).not.toContain(maskKey(CANARY_KEY));
  expect(text).not.toMatch(/sk-[A-Za-z0-9]{4,}/);
}

export interface Capture {
  logger: Logger;
  lines: string[];
  text(): string;
  records(): Array<Record<string, unknown>>;
}

/** Every line also has to be valid JSON: records() throws on one that is not. */
export function capture(level = 'debug'): Capture {
  const lines: string[] = [];
  const logger = createLogger({
    level,
    secrets: SECRETS,
    destination: { write: (line: string) => lines.push(...line.split('\n').filter(Boolean)) },
  });
  return {
    logger,
    lines,
    text: () => lines.join('\n'),
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

export const TINY_SCHEMA = createSchema<YogaInitialContext & { requestId: string }>({
  typeDefs: /* GraphQL */ `
    type Query {
      hello(name: String): String
      fails: String
      upstream: String
    }
  `,
  resolvers: {
    Query: {
      hello: (_root: unknown, args: { name?: string | null }) => `hi ${args.name ?? 'there'}`,
      fails: () => {
        throw new Error(`Incorrect API key provided: ${maskKey(CANARY_KEY)}`);
      },
      upstream: () => {
        throw new GraphQLError('OpenAI rate limit reached.', { extensions: { code: 'RATE_LIMITED' } });
      },
    },
  },
});

export function tinyYoga(options: {
  logger: Logger;
  requestLog?: RequestLog;
  metrics?: ReturnType<typeof createMetrics>;
}) {
  const { requestLog, metrics } = options;
  return createYoga({
    schema: TINY_SCHEMA,
    logging: yogaLogger(options.logger),
    maskedErrors: { isDev: false },
    plugins: [requestLog?.plugin ?? {}, metrics?.yogaPlugin ?? {}],
    context: ({ request }) => {
      const trace = requestLog?.trace(request);
      // What the app's Upstream onCall hook does, for two calls: one answered, one not.
      trace?.recordUpstreamCall({
        operation: 'vectorStores.list',
        outcome: 'ok',
        durationMs: 12,
        upstreamRequestId: 'req_upstream_1',
      });
      trace?.recordUpstreamCall({ operation: 'files.retrieve', outcome: 'UPSTREAM_TIMEOUT', durationMs: 30 });
      return { requestId: trace?.requestId ?? 'none' };
    },
  });
}

export function post(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export function metricLine(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2]!.split(',');
    if (wanted.every((pair) => present.includes(pair)) && present.length === wanted.length) {
      return Number(match[3]);
    }
  }
  return undefined;
}
