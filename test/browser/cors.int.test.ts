import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { launchBrowser, type StaticSite, startStaticSite } from './support.ts';

/**
 * What a page on another origin can do with the gateway, asked of Chromium itself: a listed
 * origin queries and uploads; an unlisted one (the same page reached by another name) reads
 * nothing, and no path echoes its origin back.
 */

let browser: Browser;
let gateway: TestGateway;
let site: StaticSite;
let listed: string;
let unlisted: string;
let storeId: string;

beforeAll(async () => {
  site = await startStaticSite();
  listed = `http://127.0.0.1:${site.port}`;
  unlisted = `http://localhost:${site.port}`;
  gateway = await startGateway({ app: { cors: { origins: [listed] } } });
  storeId = (await gateway.openai.vectorStores.create({ name: 'browser store' })).id;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await gateway?.close();
});

async function open(origin: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${origin}/app`);
  return page;
}

const QUERY = '{ vectorStores(first: 5) { nodes { name } } }';

/**
 * A subscription from the page over a raw WebSocket speaking graphql-transport-ws (what
 * graphql-ws's client speaks): the messages it got, or how the socket ended before an ack.
 */
function subscribeOverWebSocket(
  page: Page,
  url: string,
  query: string,
  variables: object,
): Promise<string[]> {
  return page.evaluate(
    (url, query, variables) =>
      new Promise<string[]>((resolve) => {
        const seen: string[] = [];
        const socket = new WebSocket(url, 'graphql-transport-ws');
        const timer = setTimeout(() => {
          seen.push('timeout');
          socket.close();
        }, 10_000);
        socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
        socket.onmessage = (event) => {
          const message = JSON.parse(String(event.data)) as { type: string; payload?: unknown };
          seen.push(message.type === 'next' ? `next ${JSON.stringify(message.payload)}` : message.type);
          if (message.type === 'connection_ack') {
            socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
          }
          if (message.type === 'complete' || message.type === 'error') socket.close(1000);
        };
        socket.onerror = () => seen.push('error event');
        socket.onclose = (event) => {
          clearTimeout(timer);
          seen.push(`closed ${event.code}`);
          resolve(seen);
        };
      }),
    url,
    query,
    variables,
  );
}

const WATCH = 'subscription ($id: ID!) { vectorStore(id: $id) { name status } }';

/** A JSON query from the page, as its own code would send it: the parsed answer, or the error. */
function query(page: Page, url: string): Promise<unknown> {
  return page.evaluate(
    async (url, query) => {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        });
        return await response.json();
      } catch (error) {
        return { failed: String(error) };
      }
    },
    url,
    QUERY,
  );
}

describe('a page on a listed origin', () => {
  it('queries, and uploads a File as a multipart request with the preflight header', async () => {
    const page = await open(listed);
    expect(await query(page, gateway.url)).toMatchObject({
      data: { vectorStores: { nodes: [{ name: 'browser store' }] } },
    });

    const uploaded = await page.evaluate(
      async (url, vectorStoreId) => {
        const file = new File(['Sent from a browser page.'], 'page.txt', { type: 'text/plain' });
        const form = new FormData();
        form.append(
          'operations',
          JSON.stringify({
            query: `mutation ($input: UploadFilesInput!) { uploadFiles(input: $input) {
              __typename ... on UploadFilesPayload { files { file { filename bytes } } failures { code } } } }`,
            variables: { input: { vectorStoreId, files: [null], sizes: [file.size] } },
          }),
        );
        form.append('map', JSON.stringify({ 0: ['variables.input.files.0'] }));
        form.append('0', file);
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'apollo-require-preflight': 'true' },
          body: form,
        });
        return response.json();
      },
      gateway.url,
      storeId,
    );
    expect(uploaded).toMatchObject({
      data: {
        uploadFiles: {
          __typename: 'UploadFilesPayload',
          files: [{ file: { filename: 'page.txt', bytes: 25 } }],
          failures: [],
        },
      },
    });
    await page.close();
  });

  it('subscribes over a WebSocket to /graphql', async () => {
    const page = await open(listed);
    // A store with no file in progress: its current state, then the end of the stream.
    const seen = await subscribeOverWebSocket(page, gateway.wsUrl, WATCH, {
      id: storeId,
    });
    expect(seen).toEqual([
      'connection_ack',
      `next ${JSON.stringify({ data: { vectorStore: { name: 'browser store', status: 'COMPLETED' } } })}`,
      'complete',
      'closed 1000',
    ]);
    await page.close();
  });
});

describe('a page on an unlisted origin', () => {
  it('reads nothing, and no path sends its origin back', async () => {
    const page = await open(unlisted);
    // The headers of every answer Chromium got from the gateway, read from the DevTools protocol,
    // which reports them for CORS-blocked answers too (the page itself sees none).
    const gatewayOrigin = new URL(gateway.url).origin;
    // The protocol does not order the two events: a response's extra info may come before its
    // request, so both are kept by request id and joined when read.
    const urls = new Map<string, string>();
    const headersOf = new Map<string, Record<string, string>>();
    const seen = new Map<string, Record<string, string>>();
    const join = () => {
      seen.clear();
      for (const [requestId, headers] of headersOf) {
        const url = urls.get(requestId);
        if (url?.startsWith(gatewayOrigin)) seen.set(new URL(url).pathname, headers);
      }
    };
    const cdp = await page.createCDPSession();
    await cdp.send('Network.enable');
    cdp.on('Network.requestWillBeSent', (event) => urls.set(event.requestId, event.request.url));
    cdp.on('Network.responseReceivedExtraInfo', (event) =>
      headersOf.set(event.requestId, lowerCased(event.headers)),
    );

    const answer = await query(page, gateway.url);
    expect(answer).toEqual({ failed: 'TypeError: Failed to fetch' });
    const paths = ['/metrics', '/health', '/ready'];
    const reads = await page.evaluate(
      async (origin, paths) =>
        Promise.all(
          paths.map((path) =>
            fetch(`${origin}${path}`).then(
              (response) => `${path} ${response.status}`,
              (error: unknown) => `${path} ${String(error)}`,
            ),
          ),
        ),
      gatewayOrigin,
      paths,
    );
    expect(reads).toEqual(paths.map((path) => `${path} TypeError: Failed to fetch`));

    // Chromium reports a blocked response after the page's fetch has failed.
    for (let waited = 0; waited < 5_000; waited += 50) {
      join();
      if (seen.size === 4) break;
      await sleep(50);
    }
    expect([...seen.keys()].sort()).toEqual(['/graphql', '/health', '/metrics', '/ready']);
    for (const [path, headers] of seen) {
      expect(headers['access-control-allow-origin'], path).toBeUndefined();
      expect(JSON.stringify(headers), path).not.toContain(unlisted);
    }
    // Nor may it open a WebSocket: the upgrade is refused before any message.
    const refused = await subscribeOverWebSocket(page, gateway.wsUrl, WATCH, { id: storeId });
    expect(refused).toEqual(['error event', 'closed 1006']);
    await page.close();
  });
});

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
