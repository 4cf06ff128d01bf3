import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.ts';

import {
  CANARY_KEY,
  CANARY_TOKEN,
  capture,
  expectNoSecrets,
  metricLine,
  post,
  SECRETS,
  tinyYoga,
} from './support.ts';

describe('createMetrics', () => {
  it('counts and times upstream calls by operation and outcome, with the credential name only when asked', async () => {
    const metrics = createMetrics({ secrets: SECRETS, credentialLabels: true });
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

  it('names no credential unless asked', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.recordUpstreamCall({
      operation: 'files.retrieve',
      outcome: 'ok',
      durationMs: 1,
      credential: 'team-a',
    });
    const text = await metrics.registry.metrics();
    expect(
      metricLine(text, 'gateway_upstream_calls_total', { operation: 'files.retrieve', outcome: 'ok' }),
    ).toBe(1);
    expect(text).not.toContain('team-a');
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
