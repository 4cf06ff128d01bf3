import { request as httpRequest } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';

/**
 * GraphiQL as a browser gets it: a small page, compressed, revalidated by its ETag, and its
 * scripts and styles as compressed assets a browser keeps for good; never from a CDN.
 */

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway.close());

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The bytes as they came over the socket, still encoded. */
  body: Buffer;
}

/** A GET whose body is not decoded, so what crosses the network is what is measured. */
function get(url: string, headers: Record<string, string>): Promise<Raw> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
    })
      .on('error', reject)
      .end();
  });
}

const BROWSER = { accept: 'text/html', 'accept-encoding': 'gzip, deflate, br, zstd' };

describe('GraphiQL', () => {
  it('sends a page under 1.5 MB compressed, its scripts and styles as compressed assets kept for good', async () => {
    const page = await get(gateway.url, BROWSER);
    expect(page.status).toBe(200);
    expect(page.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-encoding': 'br',
      'cache-control': 'no-cache',
    });
    expect(page.headers.vary).toMatch(/^Accept-Encoding\b/);
    expect(page.body.byteLength).toBeLessThan(1.5 * 1024 * 1024);
    const html = brotliDecompressSync(page.body).toString('utf8');
    expect(html).toContain('vector-store-gateway');
    expect(html).not.toMatch(/<script[^>]+src="https?:/);

    const assets = [...html.matchAll(/(?:src|href)="(\/graphiql\/[0-9a-f]{16}\.(?:js|css))"/g)].map(
      (match) => match[1]!,
    );
    expect(assets.length).toBeGreaterThan(1);
    const base = gateway.url.replace(/\/graphql$/, '');
    let decoded = Buffer.byteLength(html);
    for (const path of assets) {
      const asset = await get(`${base}${path}`, { 'accept-encoding': 'gzip, br' });
      expect(asset.status, path).toBe(200);
      expect(asset.headers).toMatchObject({
        'content-encoding': 'br',
        'cache-control': 'public, max-age=31536000, immutable',
      });
      expect(asset.headers['content-type']).toMatch(
        path.endsWith('.js') ? /^text\/javascript/ : /^text\/css/,
      );
      decoded += brotliDecompressSync(asset.body).byteLength;
    }
    // The page and its assets are the 9 MB the package renders, nothing lost.
    expect(decoded).toBeGreaterThan(8 * 1024 * 1024);
  });

  it('answers a repeat request with 304 by its ETag, and gzip to a client without brotli', async () => {
    const first = await get(gateway.url, BROWSER);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    const again = await get(gateway.url, { ...BROWSER, 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.byteLength).toBe(0);

    const gzipped = await get(gateway.url, { accept: 'text/html', 'accept-encoding': 'gzip' });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzipped.body).toString('utf8')).toBe(brotliDecompressSync(first.body).toString('utf8'));
    const plain = await get(gateway.url, { accept: 'text/html', 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString('utf8')).toBe(brotliDecompressSync(first.body).toString('utf8'));
  });

  it('answers 404 for an asset it does not have', async () => {
    const base = gateway.url.replace(/\/graphql$/, '');
    expect((await get(`${base}/graphiql/0123456789abcdef.js`, {})).status).toBe(404);
    expect((await get(`${base}/graphiql/`, {})).status).toBe(404);
  });
});
