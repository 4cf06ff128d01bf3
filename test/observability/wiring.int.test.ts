import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga, type YogaInitialContext } from 'graphql-yoga';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { useRequestLog } from '../../src/http/use-request-log.ts';
import { withRequestId, yogaLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { requestIdFrom } from '../../src/observability/request-log.ts';

import { CANARY_KEY, CANARY_TOKEN, capture, expectNoSecrets, metricLine, post, SECRETS } from './support.ts';

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
    const requestLog = useRequestLog(logger);
    const metrics = createMetrics({ secrets: SECRETS, credentialLabels: true });
    const openai = new OpenAI({ apiKey: CANARY_KEY, baseURL, maxRetries: 0 });

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
            // A resolver that lets an SDK error escape, with OpenAI's 401 text in it.
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
