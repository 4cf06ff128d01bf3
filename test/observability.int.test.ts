import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { GraphQLError } from 'graphql';
import { createSchema, createYoga, type YogaInitialContext } from 'graphql-yoga';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { maskKey } from '../src/emulator/errors.ts';
import { createEmulator, type Emulator } from '../src/emulator/index.ts';
import {
  createLogger,
  createMetrics,
  createRequestLog,
  type Logger,
  logRequest,
  type RequestLog,
  requestIdFrom,
  sdkLogger,
  withRequestId,
  yogaLogger,
} from '../src/observability.ts';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomText(length: number): string {
  return Array.from({ length }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');
}

const CANARY_KEY = `sk-canary-${randomText(32)}`;
const CANARY_TOKEN = `gwt_${randomText(32)}`;
/** A token that JSON and URLs both have to escape. */
const AWKWARD_TOKEN = `tok"en/${randomText(24)}\\end`;
const SECRETS = [CANARY_TOKEN, AWKWARD_TOKEN];

function expectNoSecrets(text: string): void {
  for (const secret of [CANARY_KEY, CANARY_TOKEN, AWKWARD_TOKEN]) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice(-8));
    expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(text).not.toContain(encodeURIComponent(secret));
  }
  expect(text).not.toContain(maskKey(CANARY_KEY));
  expect(text).not.toMatch(/sk-[A-Za-z0-9]{4,}/);
}

interface Capture {
  logger: Logger;
  lines: string[];
  text(): string;
  records(): Array<Record<string, unknown>>;
}

/** Every line also has to be valid JSON: records() throws on one that is not. */
function capture(level = 'debug'): Capture {
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

describe('createLogger', () => {
  it('writes one JSON object per line, with the level name, an ISO time and the request id', async () => {
    const { logger, records } = capture();
    logRequest(logger, {
      requestId: 'req-1',
      method: 'POST',
      path: '/graphql',
      status: 200,
      durationMs: 12.345,
      operationName: 'Dashboard',
      upstreamCalls: 2,
      upstreamRequestIds: ['req_a', 'req_b'],
      errors: ['RATE_LIMITED'],
    });
    withRequestId('req-2', () => logger.info('inside a request'));
    await withRequestId('req-3', async () => {
      await nextTurn();
      logger.warn('after an await');
    });
    logger.info('outside any request');

    const [line, inside, later, outside] = records();
    expect(line).toMatchObject({
      level: 'info',
      msg: 'request completed',
      requestId: 'req-1',
      method: 'POST',
      path: '/graphql',
      status: 200,
      durationMs: 12.3,
      operationName: 'Dashboard',
      upstreamCalls: 2,
      upstreamRequestIds: ['req_a', 'req_b'],
      errors: ['RATE_LIMITED'],
    });
    expect(new Date(line!.time as string).toISOString()).toBe(line!.time);
    expect(inside).toMatchObject({ level: 'info', requestId: 'req-2', msg: 'inside a request' });
    expect(later).toMatchObject({ level: 'warn', requestId: 'req-3' });
    expect(outside).not.toHaveProperty('requestId');
  });

  it('logs a failed request at warn or error by its status', () => {
    const { logger, records } = capture();
    const base = { requestId: 'r', method: 'POST', path: '/graphql', durationMs: 1, upstreamCalls: 0 };
    logRequest(logger, { ...base, status: 413, upstreamRequestIds: [], errors: ['PAYLOAD_TOO_LARGE'] });
    logRequest(logger, { ...base, status: 503, upstreamRequestIds: [] });
    expect(records().map((record) => record.level)).toEqual(['warn', 'error']);
  });

  it('writes to a Node writable stream', async () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination: stream, secrets: SECRETS });
    logger.info({ apiKey: CANARY_KEY }, `token ${CANARY_TOKEN}`);
    await nextTurn();
    const record = JSON.parse(chunks.join('')) as Record<string, unknown>;
    expect(record).toMatchObject({ apiKey: '[redacted]', msg: 'token [redacted]' });
    expectNoSecrets(chunks.join(''));
  });

  it('never prints a canary key or token from messages, interpolation, nested objects, keys or arrays', () => {
    const { logger, text, records } = capture();
    logger.info(`key ${CANARY_KEY} and token ${CANARY_TOKEN}`);
    logger.info('interpolated %s and %o', CANARY_KEY, { token: CANARY_TOKEN });
    logger.info(
      { a: { b: { c: { d: `Bearer ${CANARY_TOKEN}` } } }, list: [CANARY_KEY, [AWKWARD_TOKEN]] },
      'nested',
    );
    logger.info({ [CANARY_KEY]: 'a key used as a key', config: { openai: { apiKey: CANARY_KEY } } });
    logger.info({ body: JSON.stringify({ api_key: CANARY_KEY, note: AWKWARD_TOKEN }) }, 'a serialized body');

    expectNoSecrets(text());
    const [plain, interpolated, nested, keyed, body] = records();
    expect(plain!.msg).toBe('key sk-[redacted] and token [redacted]');
    expect(interpolated!.msg).toContain('interpolated sk-[redacted] and');
    expect(nested).toMatchObject({
      a: { b: { c: { d: 'Bearer [redacted]' } } },
      list: ['sk-[redacted]', ['[redacted]']],
    });
    expect(keyed).toMatchObject({
      'sk-[redacted]': 'a key used as a key',
      config: { openai: { apiKey: '[redacted]' } },
    });
    expect(JSON.parse(body!.body as string)).toEqual({ api_key: 'sk-[redacted]', note: '[redacted]' });
  });

  it('scrubs errors: message, stack, cause, aggregated errors and fields, and keeps their type', () => {
    class UpstreamFailure extends Error {
      override name = 'UpstreamFailure';
      readonly body = { error: { message: `Incorrect API key provided: ${maskKey(CANARY_KEY)}` } };
    }
    const { logger, text, records } = capture();
    const cause = new Error(`the token was ${CANARY_TOKEN}`);
    const failure = new UpstreamFailure(`401 Incorrect API key provided: ${maskKey(CANARY_KEY)}`, { cause });
    logger.error(failure);
    logger.error({ err: failure }, 'with a message of our own');
    logger.error(new AggregateError([failure, new Error(AWKWARD_TOKEN)], `several: ${CANARY_KEY}`));
    logger.error({ context: { failure } }, 'an error below the top level');

    expectNoSecrets(text());
    const [bare, wrapped, aggregate, deep] = records();
    expect(bare).toMatchObject({
      msg: '401 Incorrect API key provided: sk-[redacted]',
      err: {
        type: 'UpstreamFailure',
        body: { error: { message: 'Incorrect API key provided: sk-[redacted]' } },
      },
    });
    const err = bare!.err as { message: string; stack: string };
    expect(err.message).toContain('401 Incorrect API key provided: sk-[redacted]');
    expect(err.message).toContain('the token was [redacted]');
    expect(err.stack).toContain('UpstreamFailure: 401 Incorrect API key provided: sk-[redacted]');
    expect(err.stack).toContain('caused by: Error: the token was [redacted]');
    expect(wrapped).toMatchObject({ msg: 'with a message of our own', err: { type: 'UpstreamFailure' } });
    expect(aggregate).toMatchObject({ msg: 'several: sk-[redacted]', err: { type: 'AggregateError' } });
    expect((aggregate!.err as { aggregateErrors: unknown[] }).aggregateErrors).toHaveLength(2);
    expect(deep).toHaveProperty('context');
    // The caller's error is untouched: scrubbing works on a copy.
    expect(failure.message).toContain(maskKey(CANARY_KEY));
  });

  it('censors credential headers, including a token it was not told about', () => {
    const { logger, text, records } = capture();
    logger.info({
      headers: {
        authorization: 'Bearer some-token-nobody-configured',
        'x-openai-api-key': 'a-key-in-another-format',
        cookie: 'session=abc',
      },
    });
    logger.info({
      request: { headers: { authorization: 'Bearer unknown', 'content-type': 'application/json' } },
    });
    logger.info({ token: 'an-unlisted-token', user: { token: 'another' } });
    logger.info({ a: { b: { c: { authorization: 'Basic dXNlcjpwYXNz', 'X-API-Key': 'k' } } } });

    expectNoSecrets(text());
    expect(text()).not.toContain('some-token-nobody-configured');
    expect(text()).not.toContain('a-key-in-another-format');
    expect(text()).not.toContain('an-unlisted-token');
    expect(text()).not.toContain('dXNlcjpwYXNz');
    const [direct, nested, tokens, deep] = records();
    expect(deep).toEqual(
      expect.objectContaining({
        a: { b: { c: { authorization: '[redacted]', 'X-API-Key': '[redacted]' } } },
      }),
    );
    expect(direct!.headers).toEqual({
      authorization: '[redacted]',
      'x-openai-api-key': '[redacted]',
      cookie: '[redacted]',
    });
    expect(nested!.request).toEqual({
      headers: { authorization: '[redacted]', 'content-type': 'application/json' },
    });
    expect(tokens).toMatchObject({ token: '[redacted]', user: { token: '[redacted]' } });
  });

  it('covers what the argument pass does not walk: child bindings, class instances, URLs', () => {
    class Holder {
      readonly secret = CANARY_TOKEN;
      readonly nested = { awkward: AWKWARD_TOKEN, key: CANARY_KEY };
    }
    const { logger, text, records } = capture();
    logger.child({ session: CANARY_TOKEN, key: CANARY_KEY }).info('from a child');
    logger.info({ holder: new Holder() }, 'an instance');
    logger.info(
      { url: new URL(`https://example.test/cb?token=${encodeURIComponent(AWKWARD_TOKEN)}`) },
      'a URL',
    );
    logger.info({ when: new Date(0), count: 3, ok: true, nothing: null }, 'plain values survive');
    const circular: Record<string, unknown> = { note: CANARY_KEY };
    circular.self = circular;
    // Objects pino's redaction cannot copy must neither throw nor hide a secret.
    logger.info({
      circular,
      signal: new AbortController().signal,
      request: new Request('https://example.test/'),
    });
    logger.info({
      deeper: { url: new URL(`https://example.test/?key=${CANARY_KEY}`), signal: AbortSignal.abort() },
    });

    expectNoSecrets(text());
    const [child, instance, url, plain, awkward, deeper] = records();
    expect(child).toMatchObject({ session: '[redacted]', key: 'sk-[redacted]' });
    expect(instance!.holder).toEqual({
      secret: '[redacted]',
      nested: { awkward: '[redacted]', key: 'sk-[redacted]' },
    });
    expect(url!.url).toBe('https://example.test/cb?token=[redacted]');
    expect(plain).toMatchObject({ when: '1970-01-01T00:00:00.000Z', count: 3, ok: true, nothing: null });
    expect(awkward!.circular).toMatchObject({ note: 'sk-[redacted]' });
    expect(deeper).toMatchObject({ deeper: { url: 'https://example.test/?key=sk-[redacted]' } });
  });

  it('gives yoga a logger that scrubs the errors yoga logs, and names the original error', () => {
    const { logger, text, records } = capture();
    const log = yogaLogger(logger);
    const original = new Error(`Incorrect API key provided: ${maskKey(CANARY_KEY)}`);
    log.error(
      new GraphQLError(original.message, { originalError: original, path: ['vectorStores', 0, 'files'] }),
    );
    log.warn(`a warning about ${CANARY_TOKEN}`, { detail: CANARY_KEY });
    log.info('Request aborted');
    log.debug({ odd: AWKWARD_TOKEN });

    expectNoSecrets(text());
    const [error, warning, info, debug] = records();
    expect(error).toMatchObject({
      level: 'error',
      component: 'yoga',
      msg: 'Incorrect API key provided: sk-[redacted]',
      graphqlPath: 'vectorStores.0.files',
      err: { type: 'Error', message: 'Incorrect API key provided: sk-[redacted]' },
    });
    expect(warning).toMatchObject({
      level: 'warn',
      msg: 'a warning about [redacted]',
      details: [{ detail: 'sk-[redacted]' }],
    });
    expect(info).toMatchObject({ level: 'info', msg: 'Request aborted' });
    expect(debug).toMatchObject({ level: 'debug', details: [{ odd: '[redacted]' }] });
  });

  it('gives the OpenAI SDK a logger that scrubs the bodies it logs at debug', () => {
    const { logger, text, records } = capture();
    sdkLogger(logger).debug('[log_1] response parsed', {
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${maskKey(CANARY_KEY)}` } },
    });
    expectNoSecrets(text());
    expect(records()[0]).toMatchObject({ component: 'openai', msg: '[log_1] response parsed' });
  });
});

describe('requestIdFrom', () => {
  it("keeps a sane caller's id and replaces anything else", () => {
    expect(requestIdFrom('abc-123:x.y_z')).toBe('abc-123:x.y_z');
    for (const bad of ['has space', 'x'.repeat(129), '', null, undefined, ['a', 'b'], 'new\nline']) {
      expect(requestIdFrom(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

const TINY_SCHEMA = createSchema<YogaInitialContext & { requestId: string }>({
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

function tinyYoga(options: {
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

function post(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

describe('createRequestLog', () => {
  it('logs one line per GraphQL request with its id, operation, status, error codes and upstream calls', async () => {
    const { logger, records } = capture('info');
    const requestLog = createRequestLog(logger);
    const yoga = tinyYoga({ logger, requestLog });

    const response = await yoga.fetch(
      'http://gateway.test/graphql',
      post({ query: 'query Greeting { hello fails upstream }' }, { 'x-request-id': 'client-id-1' }),
    );
    expect(response.headers.get('x-request-id')).toBe('client-id-1');
    await response.text();

    const lines = records().filter((record) => record.msg === 'request completed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      requestId: 'client-id-1',
      method: 'POST',
      path: '/graphql',
      status: 200,
      operationName: 'Greeting',
      operationType: 'query',
      upstreamCalls: 2,
      upstreamRequestIds: ['req_upstream_1'],
      upstreamOutcomes: { ok: 1, UPSTREAM_TIMEOUT: 1 },
      errors: ['INTERNAL_SERVER_ERROR', 'RATE_LIMITED'],
    });
    expect(lines[0]!.durationMs).toBeGreaterThan(0);
  });

  it('gives a request without a usable id a fresh one, and never logs the query string', async () => {
    const { logger, records, text } = capture('info');
    const requestLog = createRequestLog(logger);
    const yoga = tinyYoga({ logger, requestLog });
    const query = encodeURIComponent('query Hello($name: String) { hello(name: $name) }');
    const variables = encodeURIComponent(JSON.stringify({ name: CANARY_TOKEN }));

    const response = await yoga.fetch(`http://gateway.test/graphql?query=${query}&variables=${variables}`, {
      headers: { accept: 'application/json', 'x-request-id': 'not a valid id' },
    });
    expect(await response.json()).toEqual({ data: { hello: `hi ${CANARY_TOKEN}` } });

    const [line] = records();
    expect(line).toMatchObject({ method: 'GET', path: '/graphql', operationName: 'Hello', status: 200 });
    expect(line!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('x-request-id')).toBe(line!.requestId);
    expect(text()).not.toContain('variables');
    expectNoSecrets(text());
  });

  it('logs requests that fail before execution, with their codes and a level by status', async () => {
    const { logger, records } = capture('info');
    const requestLog = createRequestLog(logger);
    const yoga = tinyYoga({ logger, requestLog });

    await (await yoga.fetch('http://gateway.test/graphql', post({ query: '{ hello(' }))).text();
    await (await yoga.fetch('http://gateway.test/graphql', post({ query: '{ nope }' }))).text();
    await (
      await yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: 'not json',
      })
    ).text();
    await (
      await yoga.fetch('http://gateway.test/graphql', post({ query: '{ hello }', operationName: 'Claimed' }))
    ).text();

    const lines = records().filter((record) => record.msg === 'request completed');
    expect(lines.map((line) => [line.level, line.status, line.errors])).toEqual([
      ['info', 200, ['GRAPHQL_PARSE_FAILED']],
      ['info', 200, ['GRAPHQL_VALIDATION_FAILED']],
      ['warn', 400, ['BAD_REQUEST']],
      ['warn', 400, ['OPERATION_RESOLUTION_FAILURE']],
    ]);
    // What the client claimed, for a request that never ran.
    expect(lines[3]!.operationName).toBe('Claimed');
  });
});

function metricLine(text: string, name: string, labels: Record<string, string>): number | undefined {
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

describe('createMetrics', () => {
  it('counts and times upstream calls by operation and outcome, with the credential name only', async () => {
    const metrics = createMetrics({ secrets: SECRETS });
    metrics.recordUpstreamCall({
      operation: 'vectorStores.list',
      outcome: 'ok',
      durationMs: 40,
      credential: 'team-a',
    });
    metrics.recordUpstreamCall({
      operation: 'vectorStores.list',
      outcome: 'ok',
      durationMs: 60,
      credential: 'team-a',
    });
    metrics.recordUpstreamCall({ operation: 'files.retrieve', outcome: 'RATE_LIMITED', durationMs: 3 });
    metrics.recordUpstreamCall({
      operation: 'files.retrieve',
      outcome: 'ok',
      durationMs: 1,
      credential: CANARY_KEY,
    });
    metrics.recordUpstreamCall({
      operation: 'files.retrieve',
      outcome: 'ok',
      durationMs: 1,
      credential: CANARY_TOKEN,
    });
    const text = await metrics.registry.metrics();

    const calls = 'gateway_upstream_calls_total';
    expect(
      metricLine(text, calls, { operation: 'vectorStores.list', outcome: 'ok', credential: 'team-a' }),
    ).toBe(2);
    expect(
      metricLine(text, calls, {
        operation: 'files.retrieve',
        outcome: 'RATE_LIMITED',
        credential: 'default',
      }),
    ).toBe(1);
    expect(
      metricLine(text, calls, { operation: 'files.retrieve', outcome: 'ok', credential: '[redacted]' }),
    ).toBe(2);
    const duration = 'gateway_upstream_call_duration_seconds';
    expect(metricLine(text, `${duration}_count`, { operation: 'vectorStores.list', outcome: 'ok' })).toBe(2);
    expect(
      metricLine(text, `${duration}_sum`, { operation: 'vectorStores.list', outcome: 'ok' }),
    ).toBeCloseTo(0.1);
    expect(
      metricLine(text, `${duration}_bucket`, { le: '0.05', operation: 'vectorStores.list', outcome: 'ok' }),
    ).toBe(1);
    expect(text).toContain('# TYPE gateway_upstream_calls_total counter');
    expect(text).toContain('# TYPE gateway_upstream_call_duration_seconds histogram');
    expect(text).toContain('process_resident_memory_bytes');
    expectNoSecrets(text);
  });

  it('gives every call a registry of its own, so several apps can live in one process', async () => {
    const first = createMetrics({ processMetrics: false });
    const second = createMetrics({ processMetrics: false });
    first.recordUpstreamCall({ operation: 'files.list', outcome: 'ok', durationMs: 5 });
    expect(first.registry).not.toBe(second.registry);
    expect(await first.registry.metrics()).toContain('operation="files.list"');
    expect(await second.registry.metrics()).not.toContain('operation="files.list"');
  });

  it('counts GraphQL requests, durations and errors by operation, without variables or URLs', async () => {
    const { logger } = capture('silent');
    const metrics = createMetrics({ processMetrics: false, secrets: SECRETS });
    const yoga = tinyYoga({ logger, metrics });
    const variables = encodeURIComponent(JSON.stringify({ name: CANARY_KEY }));
    const query = encodeURIComponent('query Hello($name: String) { hello(name: $name) }');

    await (await yoga.fetch(`http://gateway.test/graphql?query=${query}&variables=${variables}`)).text();
    await (
      await yoga.fetch('http://gateway.test/graphql', post({ query: 'query Both { fails upstream }' }))
    ).text();
    await (await yoga.fetch('http://gateway.test/graphql', post({ query: '{ nope }' }))).text();
    const text = await metrics.registry.metrics();

    expect(
      metricLine(text, 'graphql_envelop_request', { operationName: 'Hello', operationType: 'query' }),
    ).toBe(1);
    expect(
      metricLine(text, 'graphql_envelop_request', { operationName: 'Both', operationType: 'query' }),
    ).toBe(1);
    expect(
      metricLine(text, 'graphql_envelop_request_duration_count', {
        operationName: 'Hello',
        operationType: 'query',
      }),
    ).toBe(1);
    const http = { operationName: 'Hello', operationType: 'query', method: 'GET', statusCode: '200' };
    expect(metricLine(text, 'graphql_yoga_http_duration_count', http)).toBe(1);
    const error = { operationName: 'Both', operationType: 'query', phase: 'execute' };
    expect(metricLine(text, 'graphql_envelop_error_result', { ...error, code: 'RATE_LIMITED' })).toBe(1);
    expect(
      metricLine(text, 'graphql_envelop_error_result', { ...error, code: 'INTERNAL_SERVER_ERROR' }),
    ).toBe(1);
    expect(
      metricLine(text, 'graphql_envelop_error_result', {
        operationName: 'Anonymous',
        operationType: 'query',
        phase: 'validate',
        code: 'GRAPHQL_VALIDATION_FAILED',
      }),
    ).toBe(1);
    expect(text).not.toContain('url=');
    expect(text).not.toContain('path=');
    expectNoSecrets(text);
  });

  it('bounds operation names: a cap on distinct names, and none that looks like a secret', async () => {
    const { logger } = capture('silent');
    const metrics = createMetrics({ processMetrics: false, secrets: SECRETS, maxOperationNames: 2 });
    const yoga = tinyYoga({ logger, metrics });
    for (const name of ['One', 'Two', 'Three', 'Four', CANARY_TOKEN, `Long${'x'.repeat(100)}`]) {
      await (
        await yoga.fetch('http://gateway.test/graphql', post({ query: `query ${name} { hello }` }))
      ).text();
    }
    // A name the document does not have is refused before execution and never becomes a label.
    await (
      await yoga.fetch('http://gateway.test/graphql', post({ query: '{ hello }', operationName: CANARY_KEY }))
    ).text();
    const text = await metrics.registry.metrics();

    const requests = (operationName: string) =>
      metricLine(text, 'graphql_envelop_request', { operationName, operationType: 'query' });
    expect([requests('One'), requests('Two'), requests('Other')]).toEqual([1, 1, 2]);
    expect(requests('Three')).toBeUndefined();
    expect(requests('[redacted]')).toBe(1);
    expect(requests('Invalid')).toBe(1);
    const refused = {
      operationName: 'Anonymous',
      operationType: 'unknown',
      method: 'POST',
      statusCode: '400',
    };
    expect(metricLine(text, 'graphql_yoga_http_duration_count', refused)).toBe(1);
    expect(text).not.toContain('x'.repeat(100));
    expectNoSecrets(text);
  });
});

describe('wired together over HTTP, against the emulator', () => {
  let server: Server | undefined;
  let emulator: Emulator | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await emulator?.close();
    server = undefined;
    emulator = undefined;
  });

  it("keeps OpenAI's 401 echo of a key out of logs, responses and metrics, with ids end to end", async () => {
    emulator = createEmulator({ apiKeys: ['sk-the-only-accepted-key-0000'] });
    const { baseURL } = await emulator.listen();
    const { logger, text, records } = capture('info');
    const requestLog = createRequestLog(logger);
    const metrics = createMetrics({ secrets: SECRETS });
    const openai = new OpenAI({ apiKey: CANARY_KEY, baseURL, maxRetries: 0, logger: sdkLogger(logger) });

    interface Context {
      requestId: string;
      record(call: {
        operation: string;
        outcome: string;
        durationMs: number;
        upstreamRequestId?: string | null;
      }): void;
    }
    // Typed as app.ts types its yoga, so the plugins are checked against that.
    type ServerContext = { req: IncomingMessage; res: ServerResponse };
    const yoga = createYoga<ServerContext, Context>({
      schema: createSchema<ServerContext & YogaInitialContext & Context>({
        typeDefs: 'type Query { storeCount: Int }',
        resolvers: {
          Query: {
            // A resolver that lets an SDK error escape, as finding 7 describes.
            storeCount: async (_root, _args, context) => {
              const started = performance.now();
              try {
                return (await openai.vectorStores.list()).data.length;
              } catch (error) {
                context.record({
                  operation: 'vectorStores.list',
                  outcome: 'UPSTREAM_AUTH_FAILED',
                  durationMs: performance.now() - started,
                  upstreamRequestId: (error as InstanceType<typeof OpenAI.APIError>).requestID,
                });
                throw error;
              }
            },
          },
        },
      }),
      logging: yogaLogger(logger),
      maskedErrors: { isDev: false },
      plugins: [requestLog.plugin, metrics.yogaPlugin],
      context: ({ request }) => {
        const trace = requestLog.trace(request);
        return {
          requestId: trace.requestId,
          record: (call) => {
            trace.recordUpstreamCall(call);
            metrics.recordUpstreamCall({ ...call, credential: 'team-a' });
          },
        };
      },
    });
    server = createServer((req, res) => {
      withRequestId(requestIdFrom(req.headers['x-request-id']), () => {
        logger.info(req, 'request received');
        void yoga.requestListener(req, res);
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const response = await fetch(`${origin}/graphql`, {
      ...post(
        { query: 'query Stores { storeCount }' },
        { authorization: `Bearer ${CANARY_TOKEN}`, 'x-openai-api-key': CANARY_KEY, 'x-request-id': 'e2e-1' },
      ),
    });
    const body = await response.text();
    const scrape = await fetch(`${origin}/metrics`);
    const exposition = await scrape.text();

    expect(response.headers.get('x-request-id')).toBe('e2e-1');
    expect(JSON.parse(body)).toMatchObject({
      data: { storeCount: null },
      errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    });
    expectNoSecrets(body);

    expectNoSecrets(text());
    const lines = records();
    const received = lines.find((line) => line.msg === 'request received' && line.requestId === 'e2e-1');
    expect((received!.req as { headers: Record<string, string> }).headers).toMatchObject({
      authorization: '[redacted]',
      'x-openai-api-key': '[redacted]',
    });
    const masked = lines.find((line) => line.component === 'yoga' && line.level === 'error');
    expect(masked).toMatchObject({
      requestId: 'e2e-1',
      graphqlPath: 'storeCount',
      msg: expect.stringContaining('Incorrect API key provided: sk-[redacted].'),
      err: { type: 'AuthenticationError', status: 401 },
    });
    const completed = lines.filter((line) => line.msg === 'request completed');
    expect(completed).toHaveLength(1);
    const upstreamRequestId = completed[0]!.upstreamRequestIds as string[];
    expect(completed[0]).toMatchObject({
      requestId: 'e2e-1',
      operationName: 'Stores',
      status: 200,
      upstreamCalls: 1,
      errors: ['INTERNAL_SERVER_ERROR'],
    });
    expect(upstreamRequestId).toHaveLength(1);
    expect(upstreamRequestId[0]).toMatch(/^req_/);

    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const calls = { operation: 'vectorStores.list', outcome: 'UPSTREAM_AUTH_FAILED', credential: 'team-a' };
    expect(metricLine(exposition, 'gateway_upstream_calls_total', calls)).toBe(1);
    expect(
      metricLine(exposition, 'graphql_envelop_request', { operationName: 'Stores', operationType: 'query' }),
    ).toBe(1);
    const http = { operationName: 'Stores', operationType: 'query', method: 'POST', statusCode: '200' };
    expect(metricLine(exposition, 'graphql_yoga_http_duration_count', http)).toBe(1);
    expectNoSecrets(exposition);
  });
});
