import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';

/**
 * What a browser may do: CORS only for the configured origins (preflights answered without the
 * CSRF check, no CORS header at all for anyone else or off the API paths), and, on a gateway
 * without tokens, only loopback and configured host names (DNS rebinding).
 */

let gateway: TestGateway;
afterEach(() => gateway.close());

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example';
const QUERY = JSON.stringify({ query: '{ vectorStores(first: 1) { nodes { id } } }' });

function corsHeaders(response: Response): Record<string, string> {
  return Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-')));
}

function preflight(url: string, origin: string): Promise<Response> {
  return fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type,x-openai-credential',
    },
  });
}

/** A request with the `Host` header a rebinding page sends, which fetch cannot set. */
function withHost(url: string, host: string, body = QUERY): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: 'POST', headers: { host, 'content-type': 'application/json' } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

describe('CORS', () => {
  it('answers an allowed origin’s preflight and requests, with credentials and the headers it sends', async () => {
    gateway = await startGateway({ app: { cors: { origins: [APP] } } });
    const answer = await preflight(gateway.url, APP);
    expect(answer.status).toBe(204);
    const headers = corsHeaders(answer);
    expect(headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-max-age': '600',
    });
    expect(headers['access-control-allow-methods']).toContain('POST');
    const allowed = headers['access-control-allow-headers']!.split(/,\s*/);
    expect(allowed).toEqual(
      expect.arrayContaining([
        'authorization',
        'content-type',
        'x-openai-credential',
        'apollo-require-preflight',
      ]),
    );

    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json' },
      body: QUERY,
    });
    expect(response.status).toBe(200);
    expect(corsHeaders(response)).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
    });
    expect(corsHeaders(response)['access-control-expose-headers']).toContain('x-request-id');
    expect(response.headers.get('vary')).toMatch(/origin/i);
  });

  it('sends no CORS header to an unlisted origin, nor on /metrics, /health and /ready, nor by default', async () => {
    for (const origins of [[APP], []]) {
      gateway = await startGateway({ app: { cors: { origins } } });
      const base = gateway.url.replace(/\/graphql$/, '');
      const answers = [
        await preflight(gateway.url, EVIL),
        await fetch(gateway.url, {
          method: 'POST',
          headers: { origin: EVIL, 'content-type': 'application/json' },
          body: QUERY,
        }),
        ...(await Promise.all(
          ['/metrics', '/health', '/ready'].map((path) =>
            fetch(`${base}${path}`, { headers: { origin: APP } }),
          ),
        )),
        ...(await Promise.all(
          ['/metrics', '/health', '/ready'].map((path) => preflight(`${base}${path}`, APP)),
        )),
      ];
      for (const answer of answers) expect(corsHeaders(answer)).toEqual({});
      // Unlisted or not, the page never learns its origin was the reason: the answer is simply unreadable.
      expect(answers[1]!.headers.get('vary')).toMatch(/origin/i);
      await gateway.close();
    }
    gateway = await startGateway();
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json' },
      body: QUERY,
    });
    expect(corsHeaders(response)).toEqual({});
  });

  it('answers a preflight without the CSRF check, which the actual request still meets', async () => {
    gateway = await startGateway({ app: { cors: { origins: [APP] } } });
    // A preflight for a multipart upload: no content type of its own, no preflight header.
    const answer = await fetch(gateway.url, {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'POST' },
    });
    expect(answer.status).toBe(204);
    const form = new FormData();
    form.append('operations', QUERY);
    form.append('map', '{}');
    const unmarked = await fetch(gateway.url, { method: 'POST', headers: { origin: APP }, body: form });
    expect(unmarked.status).toBe(403);
    expect(corsHeaders(unmarked)['access-control-allow-origin']).toBe(APP);
    expect(gateway.upstreamCalls()).toBe(0);
  });
});

describe('Host check without tokens (DNS rebinding)', () => {
  it('refuses a foreign Host before any upstream call, and serves loopback names', async () => {
    gateway = await startGateway();
    const port = new URL(gateway.url).port;
    const foreign = await withHost(gateway.url, `rebind.attacker.example:${port}`);
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.text)).toMatchObject({
      errors: [{ extensions: { code: 'HOST_NOT_ALLOWED' } }],
    });
    expect(gateway.upstreamCalls()).toBe(0);
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      `app.localhost:${port}`,
      'localhost',
    ]) {
      expect((await withHost(gateway.url, host)).status, host).toBe(200);
    }
    // Probes address the gateway by IP and name: health and readiness carry no data.
    const base = gateway.url.replace(/\/graphql$/, '');
    const health = await new Promise<number>((resolve, reject) => {
      httpRequest(`${base}/health`, { headers: { host: 'pod.internal' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(health).toBe(200);
  });

  it('serves the configured hosts, and every host once tokens guard the gateway', async () => {
    gateway = await startGateway({ app: { allowedHosts: ['gateway.internal'] } });
    expect((await withHost(gateway.url, 'gateway.internal:8080')).status).toBe(200);
    expect((await withHost(gateway.url, 'other.internal')).status).toBe(403);
    await gateway.close();

    gateway = await startGateway({
      app: { tokens: [{ name: 'web', secret: 'gw-token-0123456789abcdef', credentials: ['default'] }] },
    });
    // Not refused for its host: for its missing token.
    const answer = await withHost(gateway.url, 'rebind.attacker.example');
    expect(answer.status).toBe(401);
  });
});
