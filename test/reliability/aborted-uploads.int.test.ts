import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/emulator/faults.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  BOUNDARY,
  CLOSING,
  filePartHead,
  multipartHead,
  PREFLIGHT,
  type UploadFilesData,
  uploadWithFormData,
} from '../support/multipart.ts';
import { percentile, retainedBytes, watchProcess } from './support.ts';

/**
 * 100 uploads cut at random byte offsets (seeded): in the operations, between files, half-way
 * through one while the gateway streams it to OpenAI, or just before the closing boundary. None
 * may leave a File upstream, and the gateway must end up holding no more handles or memory than
 * before.
 */
const UPLOADS = 100;
const CHUNK = 16 * 1024;
const WARM_ROUNDS = 20;

let gateway: TestGateway;
afterEach(() => gateway.close());

/** A whole multipart upload request of 1 to 3 files, 1 byte to 192 KiB each. */
function uploadBody(storeId: string, random: () => number, round: number): Buffer {
  const files = 1 + Math.floor(random() * 3);
  const map = Object.fromEntries(
    Array.from({ length: files }, (_, index) => [String(index), [`variables.input.files.${index}`]]),
  );
  let body = multipartHead({ input: { vectorStoreId: storeId, files: Array(files).fill(null) } }, map);
  for (let index = 0; index < files; index++) {
    const size = 1 + Math.floor(random() * 192 * 1024);
    body += `${index > 0 ? '\r\n' : ''}${filePartHead(String(index), `cut-${round}-${index}.txt`)}`;
    body += String.fromCharCode(97 + (index % 26)).repeat(size);
  }
  return Buffer.from(body + CLOSING);
}

/** Open handles by kind (TCPSocketWrap, Timeout, ...), as Node reports them. */
function handles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

function total(counts: Map<string, number>): number {
  return [...counts.values()].reduce((sum, count) => sum + count, 0);
}

describe('uploads cut off by their clients', () => {
  it(`leaves no File upstream and no open handle behind from ${UPLOADS} uploads aborted at random points`, async () => {
    const watch = watchProcess();
    try {
      gateway = await startGateway();
      const storeId = (await gateway.openai.vectorStores.create({ name: 'aborted uploads' })).id;
      // One complete upload first, so the connection pools the gateway keeps are already open.
      const warmup = await uploadWithFormData(gateway, { vectorStoreId: storeId }, [
        { name: 'warmup.txt', content: 'warm' },
      ]);
      expect(warmup.data?.uploadFiles.__typename).toBe('UploadFilesPayload');
      await gateway.openai.files.delete(warmup.data!.uploadFiles.files![0]!.openaiId);
      await sleep(100);
      const handlesBefore = handles();
      let retainedBefore = 0;
      gateway.resetUpstreamCalls();

      const random = mulberry32(9);
      const url = new URL(gateway.url);
      const settleMs: number[] = [];
      const where = { head: 0, file: 0, closing: 0 };
      const answered: number[] = [];
      for (let round = 0; round < UPLOADS; round++) {
        // The first rounds compile and load what aborts need (a few MiB on every Node): the leak
        // check starts after them.
        if (round === WARM_ROUNDS) retainedBefore = await retainedBytes();
        const body = uploadBody(storeId, random, round);
        // Never the whole request: most cuts fall inside a file, some in the operations and map,
        // and some in the closing boundary before it is complete. (Once `\r\n--boundary` is in,
        // the last file is complete and the gateway answers without waiting for the final `--`.)
        const headLength = body.indexOf(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="0"`);
        const closingStart = body.length - CLOSING.length;
        const lastFileComplete = body.length - '--\r\n'.length;
        const region = random();
        let cut: number;
        if (region < 0.15) {
          cut = 1 + Math.floor(random() * (headLength - 1));
          where.head++;
        } else if (region < 0.3) {
          cut = closingStart + Math.floor(random() * (lastFileComplete - closingStart));
          where.closing++;
        } else {
          cut = headLength + Math.floor(random() * (closingStart - headLength));
          where.file++;
        }

        // No agent: the socket is this request's alone, and destroying it is the client leaving.
        const req = httpRequest({
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: url.pathname,
          agent: false,
          headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, ...PREFLIGHT },
        });
        req.on('error', () => {});
        req.on('response', (response) => {
          // A request cut off should get no answer; one that does is counted, then dropped.
          answered.push(round);
          response.resume();
        });
        for (let sent = 0; sent < cut; sent += CHUNK) {
          req.write(body.subarray(sent, Math.min(sent + CHUNK, cut)));
          await sleep(0);
        }
        // Let the bytes reach the gateway, and it start on them, before the client goes away.
        await sleep(5 + Math.floor(random() * 20));
        const abortedAt = performance.now();
        req.destroy();
        // Settled: nothing stored upstream, no upload to it still open.
        const deadline = abortedAt + 2_000;
        while (performance.now() < deadline) {
          const { files, uploadsInFlight } = gateway.emulator.inspect();
          if (files === 0 && uploadsInFlight === 0) break;
          await sleep(2);
        }
        settleMs.push(performance.now() - abortedAt);
      }

      // Give every socket, timer and cleanup time to finish, then look again.
      await sleep(1_000);
      const inspection = gateway.emulator.inspect();
      const handlesAfter = handles();
      const retainedAfter = await retainedBytes();
      const { byRoute } = gateway.emulator.stats();
      const describeHandles = (counts: Map<string, number>) =>
        [...counts].map(([kind, count]) => `${kind} ${count}`).join(', ');
      console.log(
        `aborted uploads: ${UPLOADS} cut (${where.head} in the operations, ${where.file} in the files, ` +
          `${where.closing} in the closing boundary); ${byRoute['POST /v1/files'] ?? 0} uploads reached OpenAI, ` +
          `${byRoute['DELETE /v1/files/{file_id}'] ?? 0} completed ones deleted; files left ${inspection.files}, ` +
          `uploads in flight ${inspection.uploadsInFlight}; settled after abort p50 ${percentile(settleMs, 50).toFixed(0)} ms, ` +
          `p99 ${percentile(settleMs, 99).toFixed(0)} ms, max ${Math.max(...settleMs).toFixed(0)} ms; ` +
          `handles ${total(handlesBefore)} -> ${total(handlesAfter)} (${describeHandles(handlesAfter)}); ` +
          `retained after GC ${(retainedBefore / 2 ** 20).toFixed(1)} -> ${(retainedAfter / 2 ** 20).toFixed(1)} MiB; ` +
          `${watch.problems.length} unhandled rejections`,
      );

      expect(watch.problems).toEqual([]);
      expect(inspection).toMatchObject({ files: 0, storedBytes: 0, uploadsInFlight: 0 });
      expect(byRoute['POST /v1/vector_stores/{vector_store_id}/file_batches']).toBeUndefined();
      expect(answered).toEqual([]);
      // Upstream uploads stop, and completed ones are deleted, soon after the client leaves.
      expect(percentile(settleMs, 99)).toBeLessThan(1_000);
      expect(total(handlesAfter)).toBeLessThanOrEqual(total(handlesBefore) + 2);
      expect(handlesAfter.get('TCPSocketWrap') ?? 0).toBeLessThanOrEqual(
        (handlesBefore.get('TCPSocketWrap') ?? 0) + 2,
      );
      // About 16 MiB of bodies went through after the warm rounds; none of it may stay (what is
      // held otherwise moves by about 1 MiB).
      expect(retainedAfter - retainedBefore).toBeLessThan(8 * 2 ** 20);
      // The gateway still works.
      const after = await uploadWithFormData(gateway, { vectorStoreId: storeId }, [
        { name: 'after.txt', content: 'still works' },
      ]);
      expect((after.data?.uploadFiles as UploadFilesData['uploadFiles'] | undefined)?.files).toHaveLength(1);
    } finally {
      watch.stop();
    }
  }, 60_000);
});
