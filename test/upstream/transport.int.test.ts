import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { APIConnectionError, APIUserAbortError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { upstreamFetch } from '../../src/upstream/transport.ts';

/**
 * The SDK's transport against a scripted server: it must answer as `fetch` would for everything
 * the SDK relies on, on both of its paths (undici's `request` for JSON calls, `fetch` for the rest).
 */

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(handler: Handler): Promise<string> {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handler(request, Buffer.concat(chunks).toString('utf8'), response));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('upstreamFetch', () => {
  it('sends a JSON call and answers its status, headers and body as fetch does', async () => {
    const seen: Array<{ method?: string; url?: string; body: string; type?: string }> = [];
    const base = await serve((request, body, response) => {
      seen.push({ method: request.method, url: request.url, body, type: request.headers['content-type'] });
      response.setHeader('set-cookie', ['a=1', 'b=2']);
      response.writeHead(201, 'Made', { 'content-type': 'application/json', 'x-request-id': 'req_1' });
      response.end('{"id":"vs_1"}');
    });
    const answer = await upstreamFetch(`${base}/v1/vector_stores`, {
      method: 'POST',
      headers: new Headers({ 'content-type': 'application/json', authorization: 'Bearer sk-x' }),
      body: '{"name":"n"}',
    });
    expect(answer.status).toBe(201);
    expect(answer.statusText).toBe('Made');
    expect(answer.ok).toBe(true);
    expect(answer.headers.get('x-request-id')).toBe('req_1');
    expect(answer.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await answer.json()).toEqual({ id: 'vs_1' });
    expect(seen).toEqual([
      { method: 'POST', url: '/v1/vector_stores', body: '{"name":"n"}', type: 'application/json' },
    ]);
  });

  it('hands a JSON answer over read whole, readable once as fetch allows, as text, bytes or a stream', async () => {
    const base = await serve((_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end('{"name":"é"}');
    });
    const asJson = await upstreamFetch(`${base}/v1/x`);
    expect(asJson).toBeInstanceOf(Response);
    expect(asJson.bodyUsed).toBe(false);
    const copy = asJson.clone();
    expect(await asJson.json()).toEqual({ name: 'é' });
    expect(asJson.bodyUsed).toBe(true);
    await expect(asJson.text()).rejects.toThrow(TypeError);
    expect(await copy.text()).toBe('{"name":"é"}');

    const asBytes = await upstreamFetch(`${base}/v1/x`);
    expect(Buffer.from(await asBytes.arrayBuffer()).toString('utf8')).toBe('{"name":"é"}');
    // As the SDK does before a retry: the body as a stream, read or cancelled.
    const asStream = await upstreamFetch(`${base}/v1/x`);
    expect(asStream.body).toBeInstanceOf(ReadableStream);
    expect(await new Response(asStream.body).text()).toBe('{"name":"é"}');
    expect(asStream.bodyUsed).toBe(true);
  });

  it('follows a redirect, answers a 204 without a body, and streams a body that is not JSON', async () => {
    const content = 'x'.repeat(256 * 1024);
    const base = await serve((request, _body, response) => {
      if (request.url === '/old') {
        response.writeHead(307, { location: '/new' }).end();
      } else if (request.url === '/new') {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"moved":true}');
      } else if (request.url === '/none') {
        response.writeHead(204).end();
      } else {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        response.write(content.slice(0, 1024));
        setTimeout(() => response.end(content.slice(1024)), 50);
      }
    });
    expect(await (await upstreamFetch(`${base}/old`)).json()).toEqual({ moved: true });
    const none = await upstreamFetch(`${base}/none`, { method: 'DELETE' });
    expect([none.status, none.body]).toEqual([204, null]);
    const file = await upstreamFetch(`${base}/content`);
    // The answer is handed over before its body has ended.
    expect(file.body).toBeInstanceOf(ReadableStream);
    expect(await file.text()).toBe(content);
  });

  it('fails as fetch does: a network error in a TypeError, an abort with its reason', async () => {
    const base = await serve((_request, _body, response) => {
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 5_000);
    });
    const refused = await upstreamFetch('http://127.0.0.1:1/v1/files').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TypeError);
    expect((refused as TypeError).message).toBe('fetch failed');
    expect((refused as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');

    const controller = new AbortController();
    const reason = new Error('the client went away');
    setTimeout(() => controller.abort(reason), 50);
    await expect(upstreamFetch(`${base}/slow`, { signal: controller.signal })).rejects.toBe(reason);
  });

  it('sends what is not a string body (the FormData of an upload part) through fetch', async () => {
    const seen: string[] = [];
    const base = await serve((request, body, response) => {
      seen.push(`${request.headers['content-type']?.split(';')[0]} ${body.includes('part bytes')}`);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const form = new FormData();
    form.append('data', new Blob(['part bytes']), 'part');
    const answer = await upstreamFetch(`${base}/v1/uploads/u/parts`, { method: 'POST', body: form });
    expect(await answer.json()).toEqual({ ok: true });
    expect(seen).toEqual(['multipart/form-data true']);
  });

  it('carries the SDK: its errors keep their classes through this transport', async () => {
    const base = await serve((_request, _body, response) => {
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 5_000);
    });
    const sdk = (baseURL: string) =>
      new OpenAI({ apiKey: 'sk-x', baseURL, fetch: upstreamFetch, maxRetries: 0 });
    await expect(sdk('http://127.0.0.1:1/v1').files.list()).rejects.toBeInstanceOf(APIConnectionError);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(
      sdk(`${base}/v1`).vectorStores.retrieve('vs_1', { signal: controller.signal }),
    ).rejects.toBeInstanceOf(APIUserAbortError);
  });
});
