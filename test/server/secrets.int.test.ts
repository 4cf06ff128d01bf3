import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { leaksCanary, seedStore, startGateway, TEST_API_KEY, type TestGateway } from '../support/gateway.ts';

const CANARY_TOKEN = `gw-canary-${randomBytes(16).toString('hex')}`;

/** Everything a caller or an operator can see: bodies, headers, log lines, metrics. */
async function everythingSeen(
  gateway: TestGateway,
  requests: Array<[string, RequestInit]>,
): Promise<string[]> {
  const seen: string[] = [];
  for (const [url, init] of requests) {
    const response = await fetch(url, init);
    seen.push(await response.text(), JSON.stringify([...response.headers]));
  }
  const metrics = await fetch(gateway.url.replace('/graphql', '/metrics'));
  seen.push(await metrics.text());
  return [...seen, ...gateway.logLines()];
}

describe('secrets', () => {
  let gateway: TestGateway;
  afterEach(() => gateway.close());

  it('never show the API key or a gateway token in a response, header, log line or metric', async () => {
    // The upstream refuses the key, so OpenAI's 401 text (which echoes part of it) comes back.
    gateway = await startGateway({
      emulator: { apiKeys: ['sk-the-only-accepted-key'] },
      app: { tokens: [{ name: 'canary', secret: CANARY_TOKEN, credentials: ['default'] }] },
    });
    const json = (query: string, headers: Record<string, string>): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    const auth = { authorization: `Bearer ${CANARY_TOKEN}` };
    const seen = await everythingSeen(gateway, [
      [gateway.url, json('{ vectorStores(first: 2) { nodes { id } } file(id: "file-abc") { id } }', auth)],
      [gateway.url, json('{ vectorStore(id: "vs_abc") { name } }', auth)],
      [gateway.url, json('{ vectorStores { nodes { id } } }', { authorization: `Bearer ${CANARY_TOKEN}x` })],
      [gateway.url, json('{ credentials { name } }', { ...auth, 'x-openai-credential': TEST_API_KEY })],
      [gateway.url, json('{ broken', auth)],
      [`${gateway.url}?query=${encodeURIComponent('{ credentials { name } }')}&token=${CANARY_TOKEN}`, {}],
    ]);
    // The requests did reach OpenAI and fail there, so the 401 text was really in play.
    expect(gateway.emulator.stats().total).toBeGreaterThan(0);
    expect(seen.some((text) => text.includes('UPSTREAM_AUTH_FAILED'))).toBe(true);
    const leaks = seen.filter(
      (text) => leaksCanary(text) || text.includes(CANARY_TOKEN) || /sk-[A-Za-z0-9]{4,}/.test(text),
    );
    expect(leaks).toEqual([]);
  });

  it('log one JSON line per request with its request id and the upstream request ids', async () => {
    gateway = await startGateway();
    const { storeId } = await seedStore(gateway.openai, { files: 0 });
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-me-42' },
      body: JSON.stringify({ query: `query Lookup { vectorStore(id: "${storeId}") { name } }` }),
    });
    expect(response.headers.get('x-request-id')).toBe('trace-me-42');
    await response.text();
    const lines = gateway.logLines().map((line) => JSON.parse(line) as Record<string, unknown>);
    const request = lines.find(
      (line) => line.requestId === 'trace-me-42' && line.msg === 'request completed',
    );
    expect(request).toMatchObject({ operationName: 'Lookup', status: 200, upstreamCalls: 1 });
    expect(request?.upstreamRequestIds).toEqual([expect.stringMatching(/^req_[0-9a-f]{32}$/)]);
  });
});
