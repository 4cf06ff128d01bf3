import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppOptions, createApp } from '../../src/app.ts';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';

const TOKEN_A = 'gw-token-a-0123456789abcdef';
const TOKEN_BOTH = 'gw-token-both-0123456789abcdef';

interface Setup {
  url: string;
  emulators: Record<'alpha' | 'beta', Emulator>;
  upstreamCalls(): number;
  close(): Promise<void>;
}

async function setup(options: Partial<AppOptions> = {}, alphaKeys?: string[]): Promise<Setup> {
  const emulators = { alpha: createEmulator({ apiKeys: alphaKeys }), beta: createEmulator() };
  const alpha = await emulators.alpha.listen();
  const beta = await emulators.beta.listen();
  const app = createApp({
    credentials: new Map([
      ['alpha', { apiKey: 'sk-alpha-key', baseURL: alpha.baseURL }],
      ['beta', { apiKey: 'sk-beta-key', baseURL: beta.baseURL }],
    ]),
    defaultCredential: 'alpha',
    ...options,
  });
  const server: Server = createServer(app.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    emulators,
    upstreamCalls: () => emulators.alpha.stats().total + emulators.beta.stats().total,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await emulators.alpha.close();
      await emulators.beta.close();
    },
  };
}

const STORES = '{ vectorStores(first: 1) { nodes { id } } }';

function post(url: string, headers: Record<string, string>, body: string | FormData) {
  return fetch(url, { method: 'POST', headers, body });
}

function jsonPost(url: string, query: string, headers: Record<string, string> = {}) {
  return post(url, { 'content-type': 'application/json', ...headers }, JSON.stringify({ query }));
}

function multipartWithoutFiles(query: string): FormData {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query }));
  form.append('map', '{}');
  return form;
}

describe('CSRF: requests a browser could send cross-site', () => {
  let gateway: Setup;
  beforeAll(async () => {
    gateway = await setup();
  });
  afterAll(() => gateway.close());

  it('refuses multipart, form and text posts and GET operations without a preflight header, with 0 upstream calls', async () => {
    const attempts = [
      post(gateway.url, {}, multipartWithoutFiles(STORES)),
      post(
        gateway.url,
        { 'content-type': 'application/x-www-form-urlencoded' },
        `query=${encodeURIComponent(STORES)}`,
      ),
      post(gateway.url, { 'content-type': 'text/plain' }, JSON.stringify({ query: STORES })),
      fetch(`${gateway.url}?query=${encodeURIComponent(STORES)}`),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.status).toBe(403);
      const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(body.errors[0]!.extensions.code).toBe('CSRF_PREFLIGHT_REQUIRED');
    }
    expect(gateway.upstreamCalls()).toBe(0);
  });

  it('accepts them with any of the preflight headers common clients send', async () => {
    for (const header of [
      'x-graphql-yoga-csrf',
      'apollo-require-preflight',
      'graphql-preflight',
      'x-apollo-operation-name',
    ]) {
      const multipart = await post(gateway.url, { [header]: '1' }, multipartWithoutFiles(STORES));
      expect(multipart.status).toBe(200);
      expect(((await multipart.json()) as { data: unknown }).data).toEqual({ vectorStores: { nodes: [] } });
      const get = await fetch(`${gateway.url}?query=${encodeURIComponent(STORES)}`, {
        headers: { [header]: '1' },
      });
      expect(get.status).toBe(200);
    }
    expect((await jsonPost(gateway.url, STORES)).status).toBe(200);
  });

  it('refuses mutations over GET even with a preflight header', async () => {
    const response = await fetch(`${gateway.url}?query=${encodeURIComponent('mutation { __typename }')}`, {
      headers: { 'graphql-preflight': '1', accept: 'application/json' },
    });
    expect(response.status).toBe(405);
  });

  it('serves the GraphiQL page itself without any header', async () => {
    const response = await fetch(gateway.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>vector-store-gateway</title>');
  });
});

describe('named credentials', () => {
  let gateway: Setup;
  beforeAll(async () => {
    gateway = await setup();
  });
  afterAll(() => gateway.close());

  it('sends each request upstream with the credential it names, the default when it names none', async () => {
    await jsonPost(gateway.url, STORES);
    await jsonPost(gateway.url, STORES, { 'x-openai-credential': 'beta' });
    await jsonPost(gateway.url, STORES, { 'x-openai-credential': 'beta' });
    expect(gateway.emulators.alpha.stats().total).toBe(1);
    expect(gateway.emulators.beta.stats().total).toBe(2);
  });

  it('refuses an unknown credential clearly, with 0 upstream calls', async () => {
    const before = gateway.upstreamCalls();
    const response = await jsonPost(gateway.url, STORES, { 'x-openai-credential': 'gamma' });
    expect(response.status).toBe(403);
    const body = (await response.json()) as {
      errors: Array<{ message: string; extensions: { code: string } }>;
    };
    expect(body.errors[0]).toEqual({
      message: 'The credential named in x-openai-credential does not exist. Known credentials: alpha, beta.',
      extensions: { code: 'CREDENTIAL_NOT_ALLOWED' },
    });
    expect(gateway.upstreamCalls()).toBe(before);
  });

  it('lists the names the caller may use, never their secrets', async () => {
    const response = await jsonPost(gateway.url, '{ credentials { name selected } }', {
      'x-openai-credential': 'beta',
    });
    const text = await response.text();
    expect(JSON.parse(text).data).toEqual({
      credentials: [
        { name: 'alpha', selected: false },
        { name: 'beta', selected: true },
      ],
    });
    expect(text).not.toContain('sk-');
  });
});

describe('gateway tokens', () => {
  let gateway: Setup;
  beforeAll(async () => {
    gateway = await setup({
      tokens: [
        { name: 'a-only', secret: TOKEN_A, credentials: ['alpha'] },
        { name: 'both', secret: TOKEN_BOTH, credentials: ['beta', 'alpha'] },
      ],
    });
  });
  afterAll(() => gateway.close());

  it('answers 401 without a valid token, before any upstream call or upload parsing', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${TOKEN_A}`, 'Bearer ']) {
      const response = await jsonPost(gateway.url, STORES, authorization ? { authorization } : {});
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    }
    const upload = await post(gateway.url, { 'graphql-preflight': '1' }, multipartWithoutFiles(STORES));
    expect(upload.status).toBe(401);
    expect(gateway.upstreamCalls()).toBe(0);
  });

  it('refuses a credential outside the token set the same way as an unknown one, with 0 upstream calls', async () => {
    for (const credential of ['beta', 'no-such-credential']) {
      const response = await jsonPost(gateway.url, STORES, {
        authorization: `Bearer ${TOKEN_A}`,
        'x-openai-credential': credential,
      });
      expect(response.status).toBe(403);
      const body = (await response.json()) as { errors: Array<{ message: string }> };
      expect(body.errors[0]!.message).toBe(
        'The credential named in x-openai-credential does not exist or this token may not use it.',
      );
    }
    expect(gateway.upstreamCalls()).toBe(0);
  });

  it('lets the right token use its credentials, and lists only those', async () => {
    const response = await jsonPost(
      gateway.url,
      '{ credentials { name selected } vectorStores(first: 1) { nodes { id } } }',
      {
        authorization: `Bearer ${TOKEN_A}`,
      },
    );
    expect(((await response.json()) as { data: unknown }).data).toEqual({
      credentials: [{ name: 'alpha', selected: true }],
      vectorStores: { nodes: [] },
    });
    const beta = await jsonPost(gateway.url, STORES, {
      authorization: `Bearer ${TOKEN_BOTH}`,
      'x-openai-credential': 'beta',
    });
    expect(beta.status).toBe(200);
    expect(gateway.emulators.beta.stats().total).toBe(1);
  });

  it("uses a token's first credential when a request names none, even where the gateway default is another", async () => {
    // `both` lists beta first; the gateway's default is alpha.
    const response = await jsonPost(gateway.url, '{ credentials { name selected } }', {
      authorization: `Bearer ${TOKEN_BOTH}`,
    });
    expect(((await response.json()) as { data: unknown }).data).toEqual({
      credentials: [
        { name: 'beta', selected: true },
        { name: 'alpha', selected: false },
      ],
    });
    const before = gateway.emulators.beta.stats().total;
    await jsonPost(gateway.url, STORES, { authorization: `Bearer ${TOKEN_BOTH}` });
    expect(gateway.emulators.beta.stats().total).toBe(before + 1);
  });

  it('refuses callers’ own keys unless the gateway allows them', async () => {
    const response = await jsonPost(gateway.url, STORES, {
      authorization: `Bearer ${TOKEN_A}`,
      'x-openai-api-key': 'sk-callers-own',
    });
    expect(response.status).toBe(403);
  });
});

describe('callers’ own keys, when allowed', () => {
  it('are sent upstream instead of the gateway credential', async () => {
    // The upstream accepts only the caller's key, so only a request that carries it succeeds.
    const gateway = await setup({ allowCallerKeys: true }, ['sk-callers-own']);
    const own = await jsonPost(gateway.url, `{ credentials { name selected } ${STORES.slice(1, -1)} }`, {
      'x-openai-api-key': 'sk-callers-own',
    });
    expect(((await own.json()) as { data: unknown }).data).toEqual({
      credentials: [
        { name: 'alpha', selected: false },
        { name: 'beta', selected: false },
      ],
      vectorStores: { nodes: [] },
    });
    const gatewayKey = (await (await jsonPost(gateway.url, STORES)).json()) as {
      errors: Array<{ extensions: { code: string } }>;
    };
    expect(gatewayKey.errors[0]!.extensions.code).toBe('UPSTREAM_AUTH_FAILED');
    await gateway.close();
  });
});
