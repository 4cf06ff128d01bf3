import OpenAI from 'openai';
import {
  type Headline,
  MiB,
  measurePeakRss as measure,
  mib,
  peakHow,
  postGeneratedFile,
  processMemory,
  type ScenarioResult,
  startEmulatorProcess,
  startGatewayProcess,
} from './support.ts';

/**
 * Memory of the gateway while it streams uploads through `uploadFiles`: the bench process sends
 * a GraphQL multipart request generated on the fly, the gateway (the compiled dist/server.js in its own process,
 * so only its memory is counted) streams it to the emulator (a third process, which keeps the
 * files) and attaches it. The target is a peak RSS increase under 64 MiB for one 256 MiB file.
 */

const API_KEY = 'bench-key';

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

/** One `uploadFiles` request with one file of `bytes`, written as fast as the socket takes it. */
async function uploadThroughGateway(
  url: string,
  vectorStoreId: string,
  name: string,
  bytes: number,
): Promise<void> {
  const text = await postGeneratedFile(
    url,
    { query: UPLOAD, variables: { input: { vectorStoreId } } },
    name,
    bytes,
  );
  const answer = JSON.parse(text) as UploadAnswer;
  if (answer.data?.uploadFiles.files?.[0]?.file?.bytes !== bytes) {
    throw new Error(`upload of ${name} failed: ${text.slice(0, 500)}`);
  }
}

/** The target for one 256 MiB file. */
const TARGET_MIB = 64;

export async function uploadScenario(options: { quick: boolean }): Promise<ScenarioResult> {
  const singleBytes = (options.quick ? 64 : 256) * MiB;
  const concurrentBytes = (options.quick ? 32 : 128) * MiB;
  const emulator = await startEmulatorProcess({
    apiKey: API_KEY,
    maxStoredBytes: 2 * singleBytes + 8 * concurrentBytes,
  });
  const gateway = await startGatewayProcess({
    name: 'upload-gateway',
    upstream: { baseURL: emulator.baseURL, apiKey: API_KEY },
  });
  try {
    const openai = new OpenAI({ apiKey: API_KEY, baseURL: emulator.baseURL });
    const store = await openai.vectorStores.create({ name: 'upload bench' });
    // Warm up modules, connections and JIT, so the baseline includes them.
    await uploadThroughGateway(gateway.url, store.id, 'warmup.bin', 4 * MiB);
    await gateway.heapAfterGc();
    // Both runs are held against this one baseline: RSS seldom shrinks back between them.
    const baseline = processMemory(gateway.pid).rss;

    const single = await measure(gateway, () =>
      uploadThroughGateway(gateway.url, store.id, 'single.bin', singleBytes),
    );
    const concurrent = await measure(gateway, () =>
      Promise.all(
        [0, 1, 2, 3].map((index) =>
          uploadThroughGateway(gateway.url, store.id, `parallel-${index}.bin`, concurrentBytes),
        ),
      ),
    );
    const after = await gateway.heapAfterGc();

    const one = `one ${singleBytes / MiB} MiB file`;
    const parallel = `4 concurrent requests of ${concurrentBytes / MiB} MiB`;
    const singleIncrease = single.peakRss - baseline;
    const how = peakHow(single);
    const headlines: Headline[] = [
      {
        measure: `Upload: gateway peak RSS increase, ${one}`,
        value: `${mib(singleIncrease)} (${(singleBytes / MiB / single.seconds).toFixed(0)} MiB/s)`,
        ...(options.quick ? {} : { target: `< ${TARGET_MIB} MiB`, met: singleIncrease < TARGET_MIB * MiB }),
      },
      {
        measure: `Upload: gateway peak RSS increase, ${parallel}`,
        value: mib(concurrent.peakRss - baseline),
      },
    ];
    return {
      scenario: 'Upload: `uploadFiles` streamed through the gateway',
      setup: [
        'The bench process writes one multipart `uploadFiles` request per file, generated on the fly from one reused 64 KiB chunk, as fast as the socket takes it, to the gateway (the compiled dist/server.js in its own process, default settings). The gateway streams each file to the emulator (a third process, which keeps the bytes) and attaches it to a store.',
        'Memory is read from outside the gateway process, so only the gateway is counted: no client buffers, no emulator storage.',
        'Baseline: the gateway RSS after a 4 MiB warm-up upload and a full GC (through the IPC probe, bench/gateway-probe.mjs). Both measurements are held against it.',
      ],
      table: {
        columns: ['measure', 'value', 'how'],
        rows: [
          ['Gateway RSS before the uploads (baseline)', mib(baseline), '/proc/PID/status VmRSS'],
          [`Peak RSS increase, ${one}`, mib(singleIncrease), `${how}; target < ${TARGET_MIB} MiB`],
          [
            `Throughput, ${one}`,
            `${(singleBytes / MiB / single.seconds).toFixed(1)} MiB/s (${single.seconds.toFixed(1)} s)`,
            'file size / time from the first byte sent to the GraphQL answer (upload, attach, read-back)',
          ],
          [`Peak RSS increase, ${parallel}`, mib(concurrent.peakRss - baseline), `${how}, same baseline`],
          [
            `Throughput, ${parallel}`,
            `${((4 * concurrentBytes) / MiB / concurrent.seconds).toFixed(1)} MiB/s (${concurrent.seconds.toFixed(1)} s)`,
            'total bytes / time until the last answer',
          ],
          [
            'Gateway heap after the uploads',
            `${mib(after.heapUsed)} used, ${mib(after.arrayBuffers)} array buffers`,
            '`process.memoryUsage()` in the gateway after a full GC, once every upload was answered',
          ],
        ],
      },
      headlines,
    };
  } finally {
    await gateway.close();
    await emulator.close();
  }
}
