import { describe, expect, it } from 'vitest';
import { useRequestLog } from '../../src/http/use-request-log.ts';

import { CANARY_TOKEN, capture, expectNoSecrets, post, tinyYoga } from '../observability/support.ts';

describe('useRequestLog', () => {
  it('logs one line per GraphQL request with its id, operation, status, error codes and upstream calls', async () => {
    const { logger, records } = capture('info');
    const requestLog = useRequestLog(logger);
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
    const requestLog = useRequestLog(logger);
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
    const requestLog = useRequestLog(logger);
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
