import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import OpenAI from 'openai';
import { listenGateway, type ScenarioResult, startEmulatorProcess } from './support.ts';

/**
 * Memory of the gateway while it streams uploads through `uploadFiles`: a client sends a GraphQL
 * multipart request generated on the fly, the gateway (this process) streams it to the emulator
 * (a child process, so the files it keeps are not counted here) and attaches it. RSS is sampled
 * every 20 ms; the target is a peak increase under 64 MiB for one 256 MiB file.
 */

const MiB = 1024 * 1024;
const API_KEY = 'bench-key';
const BOUNDARY = '----bench-upload-boundary';
/** One reused chunk: the client adds no garbage of its own to the figures. */
const CHUNK = Buffer.alloc(64 * 1024, 'bench upload bytes, not text for search.\n');

const UPLOAD = `mutation ($input: UploadFilesInput!) {
  uploadFiles(input: $input) {
    __typename
    ... on UploadFilesPayload { files { file { bytes } } failures { code message } }
    ... on MutationError { message }
  }
}`;

interface UploadAnswer {
  data?: { uploadFiles: { files?: Array<{ file: { bytes: number } | null }> } };
}

/** One multipart request with one file of `bytes`, written as fast as the socket takes it. */
async function uploadThroughGateway(
  url: string,
  vectorStoreId: string,
  name: string,
  bytes: number,
): Promise<void> {
  const target = new URL(url);
  const req = request({
    host: target.hostname,
    port: target.port,
    path: target.pathname,
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'apollo-require-preflight': 'true',
    },
  });
  const answered = once(req, 'response') as Promise<[IncomingMessage]>;
  const operations = JSON.stringify({
    query: UPLOAD,
    variables: { input: { vectorStoreId, files: [null] } },
  });
  req.write(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.input.files.0"]}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="${name}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  for (let sent = 0; sent < bytes; sent += CHUNK.length) {
    const chunk = bytes - sent >= CHUNK.length ? CHUNK : CHUNK.subarray(0, bytes - sent);
    if (!req.write(chunk)) await once(req, 'drain');
  }
  req.end(`\r\n--${BOUNDARY}--\r\n`);
  const [response] = await answered;
  let text = '';
  for await (const part of response) text += String(part);
  const answer = JSON.parse(text) as UploadAnswer;
  if (answer.data?.uploadFiles.files?.[0]?.file?.bytes !== bytes) {
    throw new Error(`upload of ${name} failed: ${text.slice(0, 500)}`);
  }
}

interface Measured {
  seconds: number;
  peakRssMiB: number;
  peakArrayBuffersMiB: number;
}

async function measure(work: () => Promise<unknown>): Promise<Measured> {
  let peakRss = process.memoryUsage().rss;
  let peakArrayBuffers = process.memoryUsage().arrayBuffers;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers);
  }, 20);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return {
    seconds: (performance.now() - started) / 1000,
    peakRssMiB: peakRss / MiB,
    peakArrayBuffersMiB: peakArrayBuffers / MiB,
  };
}

const round = (value: number) => (Math.round(value * 10) / 10).toFixed(1);

export async function uploadScenario(options: { quick: boolean }): Promise<ScenarioResult> {
  const singleBytes = (options.quick ? 64 : 256) * MiB;
  const concurrentBytes = (options.quick ? 32 : 128) * MiB;
  const emulator = await startEmulatorProcess({
    apiKey: API_KEY,
    maxStoredBytes: 2 * singleBytes + 8 * concurrentBytes,
  });
  const gateway = await listenGateway({
    credentials: new Map([['bench', { apiKey: API_KEY, baseURL: emulator.baseURL }]]),
  });
  try {
    const openai = new OpenAI({ apiKey: API_KEY, baseURL: emulator.baseURL });
    const store = await openai.vectorStores.create({ name: 'upload bench' });
    // Warm up modules, connections and JIT, so the baseline includes them.
    await uploadThroughGateway(gateway.url, store.id, 'warmup.bin', 4 * MiB);
    globalThis.gc?.();
    // Both runs are held against this one baseline: RSS seldom shrinks back between them.
    const baselineMiB = process.memoryUsage().rss / MiB;

    const single = await measure(() =>
      uploadThroughGateway(gateway.url, store.id, 'single.bin', singleBytes),
    );
    const concurrent = await measure(() =>
      Promise.all(
        [0, 1, 2, 3].map((index) =>
          uploadThroughGateway(gateway.url, store.id, `parallel-${index}.bin`, concurrentBytes),
        ),
      ),
    );

    const how =
      'a client streams a multipart `uploadFiles` request generated on the fly into the gateway (this process), which streams it to the emulator (a child process) and attaches it; RSS sampled every 20 ms, after a 4 MiB warm-up upload';
    const one = `one ${singleBytes / MiB} MiB file`;
    const parallel = `4 concurrent requests of ${concurrentBytes / MiB} MiB`;
    return {
      scenario: 'Upload memory (uploadFiles through the gateway)',
      rows: [
        {
          measure: 'Gateway RSS before the uploads (baseline)',
          value: `${round(baselineMiB)} MiB`,
          method: how,
        },
        {
          measure: `Peak RSS increase, ${one}`,
          value: `${round(single.peakRssMiB - baselineMiB)} MiB`,
          method: 'highest sampled RSS minus the baseline; target < 64 MiB',
        },
        {
          measure: `Throughput, ${one}`,
          value: `${round(singleBytes / MiB / single.seconds)} MiB/s (${round(single.seconds)} s)`,
          method:
            'file size / time from the first byte sent to the GraphQL answer (upload, attach, read-back)',
        },
        {
          measure: `Peak arrayBuffers, ${one}`,
          value: `${round(single.peakArrayBuffersMiB)} MiB`,
          method: '`process.memoryUsage().arrayBuffers`, sampled with RSS',
        },
        {
          measure: `Peak RSS increase, ${parallel}`,
          value: `${round(concurrent.peakRssMiB - baselineMiB)} MiB`,
          method: 'highest sampled RSS during them minus the same baseline',
        },
        {
          measure: `Throughput, ${parallel}`,
          value: `${round((4 * concurrentBytes) / MiB / concurrent.seconds)} MiB/s (${round(concurrent.seconds)} s)`,
          method: 'total bytes / time until the last answer',
        },
      ],
    };
  } finally {
    await gateway.close();
    await emulator.close();
  }
}
