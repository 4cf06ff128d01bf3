/**
 * Memory used by the gateway process while it forwards one large upload to the emulator.
 *
 *   npx tsx bench/upload-memory.ts            # uploadFileStream (undici.request, hand-built multipart)
 *   npx tsx bench/upload-memory.ts --sdk      # openai files.create + toStreamingFile (fetch), for comparison
 *   npx tsx bench/upload-memory.ts --discard  # control: generate and drop the bytes, no upload
 *   options: --mib=N (default 256)
 *
 * The emulator runs in a child process so the file it keeps in memory is not counted here.
 * Prints one JSON object; the target for the default mode is peakRssIncreaseMiB < 64. Fresh 64 KiB
 * buffers per chunk (as from a client socket) are garbage the GC collects in bursts, so part of the
 * peak is that garbage, not retention: `--discard` shows how much.
 */
import { Readable } from 'node:stream';
import OpenAI, { toStreamingFile } from 'openai';
import { uploadFileStream } from '../src/upstream/file-upload.ts';
import { removeBenchDir, startEmulatorProcess } from './support.ts';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const API_KEY = 'bench-key';

const args = process.argv.slice(2);
const useSdk = args.includes('--sdk');
const discardOnly = args.includes('--discard');
const mib = Number(args.find((a) => a.startsWith('--mib='))?.slice('--mib='.length) ?? 256);
if (!Number.isInteger(mib) || mib <= 0) throw new Error(`--mib must be a positive integer, got ${mib}`);
const fileBytes = mib * MiB;

/** Generated on the fly with a fresh buffer per chunk, like bytes arriving from a client socket. */
function generatedStream(total: number): Readable {
  let remaining = total;
  let counter = 0;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (remaining <= 0) {
        this.push(null);
        return;
      }
      const size = Math.min(CHUNK, remaining);
      const chunk = Buffer.allocUnsafe(size).fill(counter++ & 0xff);
      remaining -= size;
      this.push(chunk);
    },
  });
}

async function discard(stream: Readable): Promise<{ bytes: number }> {
  let bytes = 0;
  for await (const chunk of stream) {
    bytes += (chunk as Buffer).byteLength;
    // Yield now and then so the sampler runs, as it does while a real upload waits on the socket.
    if (bytes % (4 * MiB) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return { bytes };
}

async function main(): Promise<void> {
  const emulator = await startEmulatorProcess({
    apiKey: API_KEY,
    maxStoredBytes: Math.max(1024 ** 3, 2 * fileBytes),
  });
  const { baseURL } = emulator;
  try {
    const client = new OpenAI({ apiKey: API_KEY, baseURL, maxRetries: 0 });
    // Warm both code paths' modules and connections so the baseline includes them.
    await client.files.list();
    globalThis.gc?.();
    const baseline = process.memoryUsage();
    let peakRss = baseline.rss;
    let peakArrayBuffers = baseline.arrayBuffers;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers);
    }, 20);

    const started = performance.now();
    const stream = generatedStream(fileBytes);
    const file = discardOnly
      ? await discard(stream)
      : useSdk
        ? await client.files.create({
            file: toStreamingFile(stream, 'bench.bin', { type: 'application/octet-stream' }),
            purpose: 'assistants',
          })
        : await uploadFileStream(
            { baseURL, apiKey: API_KEY },
            { body: stream, filename: 'bench.bin', mimetype: 'application/octet-stream' },
            { purpose: 'assistants' },
          );
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    if (file.bytes !== fileBytes)
      throw new Error(`emulator stored ${file.bytes} bytes, expected ${fileBytes}`);

    const round = (n: number) => Math.round(n * 10) / 10;
    console.log(
      JSON.stringify({
        path: discardOnly
          ? 'control: generate and discard'
          : useSdk
            ? 'sdk files.create + toStreamingFile (fetch)'
            : 'uploadFileStream (undici.request)',
        node: process.version,
        fileBytes,
        seconds: round(seconds),
        throughputMiBps: round(fileBytes / MiB / seconds),
        baselineRss: baseline.rss,
        peakRss,
        peakRssIncreaseMiB: round((peakRss - baseline.rss) / MiB),
        peakArrayBuffersMiB: round(peakArrayBuffers / MiB),
      }),
    );
  } finally {
    await emulator.close();
    removeBenchDir();
  }
}

await main();
