import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { processRequest, type Upload } from 'graphql-upload-minimal';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';
import { receiveUpload } from '../../src/uploads/receive.ts';
import { type UploadTarget, uploadFileStream } from '../../src/upstream/file-upload.ts';

const KEY = 'sk-test-0123456789abcdef';
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((fn) => fn()));
});

async function startEmulator(
  options: EmulatorOptions = {},
): Promise<{ emu: Emulator; target: UploadTarget }> {
  const emu = createEmulator(options);
  cleanups.push(() => emu.close());
  const { baseURL } = await emu.listen({ port: 0 });
  return { emu, target: { baseURL, apiKey: options.apiKeys?.[0] ?? KEY } };
}

async function waitFor(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

function uploadAttempts(emu: Emulator) {
  return emu.stats().requests.filter((r) => r.route === 'POST /v1/files');
}

/** The emulator saw the upload start and never answered it: the body ended without its closing boundary. */
async function expectAbortedUpload(emu: Emulator): Promise<void> {
  await waitFor(() => emu.inspect().uploadsInFlight === 0 && uploadAttempts(emu).length === 1);
  expect(uploadAttempts(emu)).toEqual([expect.objectContaining({ status: null })]);
  expect(emu.inspect()).toMatchObject({ files: 0, storedBytes: 0 });
}

async function _fileContent(target: UploadTarget, id: string): Promise<Buffer> {
  const res = await fetch(`${target.baseURL}/files/${id}/content`, {
    headers: { authorization: `Bearer ${target.apiKey}` },
  });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe('a file of a multipart request, received and streamed to the emulator', () => {
  const OPERATIONS = JSON.stringify({
    query: 'mutation ($file: Upload!) { upload(file: $file) }',
    variables: { file: null },
  });
  const MAP = JSON.stringify({ 0: ['variables.file'] });
  const BOUNDARY = 'gatewayboundary';

  /** A minimal stand-in for the gateway: parses the multipart request and forwards the file upstream. */
  async function startGateway(target: UploadTarget, maxFileSize: number) {
    const outcomes: Array<Promise<unknown>> = [];
    const server: Server = createServer((req: IncomingMessage, res) => {
      const outcome = (async () => {
        const operations = (await processRequest(req, res, { maxFileSize, maxFiles: 1 })) as {
          variables: { file: Upload };
        };
        const file = await receiveUpload(operations.variables.file.promise, maxFileSize - 1);
        if ('problem' in file) throw file.problem;
        return uploadFileStream(target, file, { purpose: 'assistants' });
      })();
      outcomes.push(outcome);
      outcome.then(
        (file) => res.end(JSON.stringify(file)),
        (error: unknown) => {
          res.statusCode = 500;
          res.end(String(error));
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return { port: (server.address() as { port: number }).port, outcomes };
  }

  function openUpload(port: number) {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/graphql',
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    });
    req.on('error', () => {});
    req.write(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${OPERATIONS}\r\n` +
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n${MAP}\r\n` +
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="doc.txt"\r\nContent-Type: text/plain\r\n\r\n`,
    );
    return req;
  }

  it('rejects a file that graphql-upload-minimal truncated at maxFileSize', async () => {
    const { emu, target } = await startEmulator();
    const gateway = await startGateway(target, 1000);
    const req = openUpload(gateway.port);
    // Slowly, so the file is already streaming upstream when the limit hits.
    for (let i = 0; i < 10; i += 1) {
      req.write('y'.repeat(500));
      await sleep(20);
    }
    req.end(`\r\n--${BOUNDARY}--\r\n`);
    await waitFor(() => gateway.outcomes.length === 1);
    await expect(gateway.outcomes[0]).rejects.toMatchObject({ code: 'FILE_TOO_LARGE' });
    await expectAbortedUpload(emu);
  });

  it('aborts the upstream upload when the client disconnects mid-file', async () => {
    const { emu, target } = await startEmulator();
    const gateway = await startGateway(target, 1_000_000);
    const req = openUpload(gateway.port);
    for (let i = 0; i < 5; i += 1) {
      req.write('z'.repeat(200));
      await sleep(20);
    }
    await waitFor(() => gateway.outcomes.length === 1 && emu.inspect().uploadsInFlight === 1);
    req.destroy();
    await expect(gateway.outcomes[0]).rejects.toMatchObject({ code: 'REQUEST_CANCELLED' });
    await expectAbortedUpload(emu);
  });

  it('forwards a complete file', async () => {
    const { emu, target } = await startEmulator();
    const gateway = await startGateway(target, 1_000_000);
    const req = openUpload(gateway.port);
    const response = once(req, 'response');
    req.end(`complete file\r\n--${BOUNDARY}--\r\n`);
    await response;
    await expect(gateway.outcomes[0]).resolves.toMatchObject({ filename: 'doc.txt', bytes: 13 });
    expect(emu.inspect().files).toBe(1);
  });
});
