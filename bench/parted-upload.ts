import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import { PART_BYTES } from '../src/upstream/index.ts';
import {
  generatedBytes,
  type Headline,
  MiB,
  measurePeakRss,
  mib,
  peakHow,
  postGeneratedFile,
  processMemory,
  type ScenarioResult,
  startEmulatorProcess,
  startGatewayProcess,
} from './support.ts';

/**
 * Memory of the gateway while it sends one file past the 512 MB of `POST /files` through OpenAI's
 * Uploads API: the bench process sends one `createFiles` request (purpose `user_data`, the file's
 * size declared in `sizes`) generated on the fly; the gateway (the compiled dist/server.js in its own process,
 * default settings, so the file goes in 8 MiB parts) sends it to the emulator (a third process,
 * which keeps the parts and then the File). The target is a peak RSS increase under 64 MiB.
 */

const API_KEY = 'bench-key';
const TARGET_MIB = 64;
const PARTS_ROUTE = 'POST /v1/uploads/{upload_id}/parts';

const CREATE = `mutation ($input: CreateFilesInput!) {
  createFiles(input: $input) {
    __typename
    ... on CreateFilesPayload { files { openaiId bytes } failures { code message } }
    ... on MutationError { message }
  }
}`;

interface CreateAnswer {
  data?: { createFiles: { files?: Array<{ openaiId: string; bytes: number }> } };
}

/** One `createFiles` request with one declared file of `bytes`; the created File's raw id. */
async function createThroughGateway(url: string, name: string, bytes: number): Promise<string> {
  const text = await postGeneratedFile(
    url,
    { query: CREATE, variables: { input: { purpose: 'USER_DATA', sizes: [bytes] } } },
    name,
    bytes,
  );
  const file = (JSON.parse(text) as CreateAnswer).data?.createFiles.files?.[0];
  if (file?.bytes !== bytes) throw new Error(`createFiles of ${name} failed: ${text.slice(0, 500)}`);
  return file.openaiId;
}

function md5Of(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<string> {
  return (async () => {
    const hash = createHash('md5');
    for await (const chunk of chunks) hash.update(chunk);
    return hash.digest('hex');
  })();
}

export async function partedUploadScenario(options: { quick: boolean }): Promise<ScenarioResult> {
  const fileBytes = (options.quick ? 520 : 600) * MiB;
  const emulator = await startEmulatorProcess({ apiKey: API_KEY, maxStoredBytes: 2 * fileBytes });
  const gateway = await startGatewayProcess({
    name: 'parted-upload-gateway',
    upstream: { baseURL: emulator.baseURL, apiKey: API_KEY },
  });
  try {
    const openai = new OpenAI({ apiKey: API_KEY, baseURL: emulator.baseURL });
    // Warm up modules, connections and JIT (a declared 4 MiB file goes to POST /files).
    const warmup = await createThroughGateway(gateway.url, 'warmup.bin', 4 * MiB);
    await openai.files.delete(warmup);
    await gateway.heapAfterGc();
    const baseline = processMemory(gateway.pid).rss;
    const partsBefore = (await emulator.requestsByRoute())[PARTS_ROUTE] ?? 0;

    let fileId = '';
    const measured = await measurePeakRss(gateway, async () => {
      fileId = await createThroughGateway(gateway.url, 'large.bin', fileBytes);
    });
    const after = await gateway.heapAfterGc();
    const parts = ((await emulator.requestsByRoute())[PARTS_ROUTE] ?? 0) - partsBefore;

    // The emulator holds the whole file, byte for byte what the client sent.
    const stored = await openai.files.retrieve(fileId);
    const content = await openai.files.content(fileId);
    const [sent, received] = await Promise.all([
      md5Of(generatedBytes(fileBytes)),
      md5Of(content.body as unknown as AsyncIterable<Uint8Array>),
    ]);
    if (stored.bytes !== fileBytes || stored.purpose !== 'user_data' || sent !== received) {
      throw new Error(
        `the emulator holds ${stored.bytes} bytes (${stored.purpose}, md5 ${received}), not the ${fileBytes} sent (md5 ${sent})`,
      );
    }

    const increase = measured.peakRss - baseline;
    const one = `one ${fileBytes / MiB} MiB file in parts`;
    const throughput = `${(fileBytes / MiB / measured.seconds).toFixed(1)} MiB/s (${measured.seconds.toFixed(1)} s)`;
    const headlines: Headline[] = [
      {
        measure: `Parted upload: gateway peak RSS increase, ${one}`,
        value: `${mib(increase)} (${parts} parts, ${(fileBytes / MiB / measured.seconds).toFixed(0)} MiB/s)`,
        ...(options.quick ? {} : { target: `< ${TARGET_MIB} MiB`, met: increase < TARGET_MIB * MiB }),
      },
    ];
    return {
      scenario: '`createFiles`: a file past 512 MB through the Uploads API',
      setup: [
        `The bench process writes one multipart \`createFiles\` request (purpose \`user_data\`, \`sizes\` declaring the file's size), generated on the fly from one reused 64 KiB chunk, as fast as the socket takes it, to the gateway (the compiled dist/server.js in its own process, default settings: past 512 MiB a declared file goes through the Uploads API in ${PART_BYTES / MiB} MiB parts, 3 in flight). The emulator (a third process) keeps the parts, then the File.`,
        'Memory is read from outside the gateway process, so only the gateway is counted: no client buffers, no emulator storage.',
        'Baseline: the gateway RSS after a 4 MiB warm-up `createFiles` (through POST /files) and a full GC (through the IPC probe, bench/gateway-probe.mjs).',
        "Checked afterwards: the File the emulator holds has the file's size, purpose `user_data`, and the md5 of the bytes the client sent (its content downloaded and hashed).",
      ],
      table: {
        columns: ['measure', 'value', 'how'],
        rows: [
          ['Gateway RSS before the upload (baseline)', mib(baseline), '/proc/PID/status VmRSS'],
          [`Peak RSS increase, ${one}`, mib(increase), `${peakHow(measured)}; target < ${TARGET_MIB} MiB`],
          [
            'Parts',
            `${parts} (${PART_BYTES / MiB} MiB each, the last one shorter)`,
            `\`${PARTS_ROUTE}\` requests the emulator served (its stats)`,
          ],
          [
            `Throughput, ${one}`,
            throughput,
            'file size / time from the first byte sent to the GraphQL answer (create, parts, completion)',
          ],
          [
            'Gateway heap after the upload',
            `${mib(after.heapUsed)} used, ${mib(after.arrayBuffers)} array buffers`,
            '`process.memoryUsage()` in the gateway after a full GC, once the upload was answered',
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
