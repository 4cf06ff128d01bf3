import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { toFile } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { waitFor } from '../support/multipart.ts';

let gateway: TestGateway;
afterEach(() => gateway.close());

const CONTENT_ROUTE = 'GET /v1/files/{file_id}/content';
const TOKEN = 'gwt_file_content_suite_token_000000';

async function upload(bytes: Buffer, name: string, purpose: 'user_data' | 'assistants' = 'user_data') {
  return gateway.openai.files.create({ file: await toFile(bytes, name), purpose });
}

async function contentUrlOf(fileId: string, headers?: Record<string, string>): Promise<string> {
  const result = await gateway.graphql<{ file: { contentUrl: string } }>(
    'query ($id: ID!) { file(id: $id) { contentUrl } }',
    { id: fileId },
    headers,
  );
  expect(result.errors).toBeUndefined();
  return result.data!.file.contentUrl;
}

describe('GET /files/{id}/content', () => {
  it('streams the bytes uploaded, as a download, in one upstream call', async () => {
    gateway = await startGateway();
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const file = await upload(bytes, 'report "final" – ü.pdf');
    const url = await contentUrlOf(file.id);
    expect(url).toBe(`${new URL(gateway.url).origin}/files/${file.id}/content`);
    gateway.resetUpstreamCalls();

    const response = await fetch(url);

    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    expect(response.headers.get('content-disposition')).toContain('attachment; filename=');
    expect(response.headers.get('content-disposition')).toContain("filename*=UTF-8''report");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect(gateway.emulator.stats().byRoute).toEqual({ [CONTENT_ROUTE]: 1 });
  });

  it('answers HEAD with the headers of one metadata read and no body', async () => {
    gateway = await startGateway();
    const file = await upload(Buffer.from('twelve bytes'), 'notes.txt');
    gateway.resetUpstreamCalls();

    const response = await fetch(await contentUrlOf(file.id), { method: 'HEAD' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('12');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename=notes.txt');
    expect(await response.text()).toBe('');
    // The GraphQL lookup of contentUrl, then the HEAD's one read; no download.
    expect(gateway.emulator.stats().byRoute[CONTENT_ROUTE]).toBeUndefined();
  });

  it('takes a File global id as well, and answers clear errors for what it cannot serve', async () => {
    gateway = await startGateway();
    const file = await upload(Buffer.from('by global id'), 'g.txt');
    const origin = new URL(gateway.url).origin;
    const globalId = Buffer.from(`File:${file.id}`).toString('base64url');

    const byGlobalId = await fetch(`${origin}/files/${globalId}/content`);
    expect(await byGlobalId.text()).toBe('by global id');

    const missing = await fetch(`${origin}/files/file-doesnotexist000/content`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });

    const malformed = await fetch(`${origin}/files/not%20an%20id/content`);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ errors: [{ extensions: { code: 'INVALID_ID' } }] });

    const posted = await fetch(`${origin}/files/${file.id}/content`, { method: 'POST', body: 'x' });
    expect(posted.status).toBe(405);
    expect(posted.headers.get('allow')).toBe('GET, HEAD');

    for (const path of [`/files/${file.id}`, `/files/${file.id}/content/`, '/files//content']) {
      expect((await fetch(`${origin}${path}`)).status).toBe(404);
    }
  });

  it('refuses under the same rules as /graphql: 401 without the token, 403 for a credential it may not use', async () => {
    gateway = await startGateway({
      app: { tokens: [{ name: 'team', secret: TOKEN, credentials: ['default'] }] },
    });
    const file = await upload(Buffer.from('secret plans'), 'plans.txt');
    const url = await contentUrlOf(file.id, { authorization: `Bearer ${TOKEN}` });
    gateway.resetUpstreamCalls();

    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(await anonymous.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });

    const wrongToken = await fetch(url, { headers: { authorization: 'Bearer gwt_not_the_token' } });
    expect(wrongToken.status).toBe(401);

    const otherCredential = await fetch(url, {
      headers: { authorization: `Bearer ${TOKEN}`, 'x-openai-credential': 'production' },
    });
    expect(otherCredential.status).toBe(403);
    expect(await otherCredential.json()).toMatchObject({
      errors: [{ extensions: { code: 'CREDENTIAL_NOT_ALLOWED' } }],
    });

    const callerKey = await fetch(url, {
      headers: { authorization: `Bearer ${TOKEN}`, 'x-openai-api-key': 'sk-someone-elses' },
    });
    expect(callerKey.status).toBe(403);
    // Nothing refused reached OpenAI.
    expect(gateway.upstreamCalls()).toBe(0);

    const allowed = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await allowed.text()).toBe('secret plans');
  });

  it('closes the upstream download when the client goes away mid-file', async () => {
    gateway = await startGateway();
    const file = await upload(randomBytes(8 * 1024 * 1024), 'big.bin');
    const url = new URL(await contentUrlOf(file.id));
    // Upstream sends half the file, then holds the connection open: only the gateway can end it.
    gateway.emulator.setFaults({ routes: { [CONTENT_ROUTE]: { stall: 'body' } } });

    const received = await new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes >= 1024 * 1024) {
            req.destroy();
            resolve(bytes);
          }
        });
        res.on('error', () => {});
      });
      req.on('error', (error) => {
        if (!req.destroyed) reject(error);
      });
      req.end();
    });

    expect(received).toBeGreaterThanOrEqual(1024 * 1024);
    await waitFor(() => Object.keys(gateway.emulator.stats().inFlight).length === 0, 5000);
  });
});
