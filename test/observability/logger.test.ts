import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { maskKey } from '../../src/emulator/errors.ts';
import { createLogger, withRequestId, yogaLogger } from '../../src/observability/logger.ts';
import { logRequest } from '../../src/observability/request-log.ts';

import { AWKWARD_TOKEN, CANARY_KEY, CANARY_TOKEN, capture, expectNoSecrets, SECRETS } from './support.ts';

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

  it('logs a Node request given whole as pino would, its credential headers censored', () => {
    const { logger, text, records } = capture();
    const request = new IncomingMessage(new Socket());
    request.method = 'POST';
    request.url = '/graphql';
    request.headers = {
      authorization: 'Bearer a-token-nobody-configured',
      'x-openai-api-key': 'a-caller-key-in-any-format',
      'content-type': 'application/json',
    };
    logger.info(request, 'a request');

    expect(text()).not.toContain('a-token-nobody-configured');
    expect(text()).not.toContain('a-caller-key-in-any-format');
    expect(records()[0]).toMatchObject({
      msg: 'a request',
      req: {
        method: 'POST',
        url: '/graphql',
        headers: {
          authorization: '[redacted]',
          'x-openai-api-key': '[redacted]',
          'content-type': 'application/json',
        },
      },
    });
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
});
