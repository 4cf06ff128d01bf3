import { setTimeout as sleep } from 'node:timers/promises';
import { toFile } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { REPLICA_LIFE } from '../../src/replicas/index.ts';
import { PART_BYTES } from '../../src/upstream/index.ts';
import {
  BOUNDARY,
  filePartHead,
  multipartHead,
  openMultipart,
  readJson,
  UPLOAD_FILES,
  type UploadFilesData,
  waitFor,
} from '../support/multipart.ts';
import { closeReplicaSets, type ReplicaSet, startReplicaSet } from '../support/replicas.ts';

const CREATE_FILES = `
  mutation Create($input: CreateFilesInput!) {
    createFiles(input: $input) {
      __typename
      ... on CreateFilesPayload { files { openaiId } failures { index code } }
    }
  }
`;

const ROUTES = {
  delete: 'DELETE /v1/files/{file_id}',
  cancel: 'POST /v1/uploads/{upload_id}/cancel',
  part: 'POST /v1/uploads/{upload_id}/parts',
};

/** A dead replica is found once its key expires and the next look comes; then its undo calls. */
const FOUND_WITHIN_MS = REPLICA_LIFE.aliveMs + REPLICA_LIFE.sweepEveryMs;

describe('a replica killed mid-upload', () => {
  let set: ReplicaSet | undefined;
  afterEach(async () => {
    await closeReplicaSets();
    set = undefined;
  });

  it('leaves nothing upstream: within 30 s the survivors delete its files and cancel its open upload', async () => {
    expect(FOUND_WITHIN_MS).toBeLessThan(25_000);
    // Files over 1 MB declared go in parts (of PART_BYTES), so the second file below opens an upload.
    set = await startReplicaSet({ count: 3, settings: { PARTED_UPLOAD_BYTES: String(1024 * 1024) } });
    const { emulator, openai, replicas, redis } = set;
    const store = await openai.vectorStores.create({ name: 'kept' });
    const kept = await openai.files.create({
      file: await toFile(Buffer.from('not the replica s'), 'kept.txt'),
      purpose: 'assistants',
    });
    const baseline = emulator.inspect();
    const victim = replicas[0]!;

    // createFiles: a plain file sent whole (a File the client has not been told of), then a
    // file declared at 3 parts, of which a part and a half arrive (an open upload).
    const parted = openMultipart(victim);
    parted.req.write(
      multipartHead(
        { input: { purpose: 'USER_DATA', sizes: [40, 3 * PART_BYTES], files: [null, null] } },
        { plain: ['variables.input.files.0'], big: ['variables.input.files.1'] },
        CREATE_FILES,
      ),
    );
    parted.req.write(`${filePartHead('plain', 'plain.txt')}${'p'.repeat(40)}\r\n`);
    parted.req.write(filePartHead('big', 'big.bin', 'application/octet-stream'));
    parted.req.write(Buffer.alloc(PART_BYTES + PART_BYTES / 2, 7));
    // uploadFiles: one file whole, the next one still coming, so none is attached yet.
    const toStore = openMultipart(victim);
    toStore.req.write(
      multipartHead(
        { input: { vectorStoreId: store.id, files: [null, null] } },
        { a: ['variables.input.files.0'], b: ['variables.input.files.1'] },
        UPLOAD_FILES,
      ),
    );
    toStore.req.write(`${filePartHead('a', 'a.txt')}${'a'.repeat(100)}\r\n`);
    toStore.req.write(`${filePartHead('b', 'b.txt')}${'b'.repeat(1000)}`);

    await waitFor(() => {
      const now = emulator.inspect();
      return now.files === baseline.files + 2 && now.openUploads === 1 && now.uploadPartBytes >= PART_BYTES;
    }, 20_000);
    // The victim has written down the two Files and the upload (and the body still coming).
    const logs = await redis.client.keys('vsg:leftovers:*');
    expect(logs).toHaveLength(1);
    const entries = Object.values(await redis.client.hgetall(logs[0]!)).map(
      (value) => (JSON.parse(value) as { kind: string }).kind,
    );
    expect(entries.sort()).toEqual(['file', 'file', 'sending', 'upload']);
    for (const [name, route] of Object.entries(ROUTES))
      expect(set.routeCalls(route), name).toBe(name === 'part' ? 1 : 0);

    await victim.stop('SIGKILL');
    const killedAt = Date.now();
    parted.req.destroy();
    toStore.req.destroy();
    await waitFor(() => {
      const now = emulator.inspect();
      return now.files === baseline.files && now.openUploads === 0;
    }, 30_000);
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThan(30_000);

    expect(emulator.inspect()).toMatchObject({
      files: baseline.files,
      openUploads: 0,
      uploadPartBytes: 0,
      storedBytes: baseline.storedBytes,
    });
    expect(set.routeCalls(ROUTES.delete)).toBe(2);
    expect(set.routeCalls(ROUTES.cancel)).toBe(1);
    // Nothing but the dead replica's: the file made before it is still there, the store empty.
    expect((await openai.files.retrieve(kept.id)).id).toBe(kept.id);
    expect((await openai.vectorStores.retrieve(store.id)).file_counts.total).toBe(0);
    // Its log is gone (the sweep forgets each entry right after its undo is answered), and it
    // is no longer among the replicas; the survivors are.
    for (let tries = 0; tries < 50 && (await redis.client.keys('vsg:leftovers:*')).length > 0; tries++) {
      await sleep(100);
    }
    expect(await redis.client.keys('vsg:leftovers:*')).toEqual([]);
    expect(await redis.client.scard('vsg:replicas')).toBe(2);
  }, 90_000);

  it('keeps what a survivor answered: its files stay after it is done, and no log is left', async () => {
    set = await startReplicaSet({ count: 2 });
    const { emulator, openai, replicas, redis } = set;
    const store = await openai.vectorStores.create({ name: 'uploads' });
    const { req, response } = openMultipart(replicas[1]!);
    req.write(
      multipartHead(
        { input: { vectorStoreId: store.id, files: [null] } },
        { a: ['variables.input.files.0'] },
        UPLOAD_FILES,
      ),
    );
    req.end(`${filePartHead('a', 'answered.txt')}${'x'.repeat(64)}\r\n--${BOUNDARY}--\r\n`);
    const answer = await readJson<{ data: UploadFilesData }>(await response);
    expect(answer.data.uploadFiles.files).toHaveLength(1);
    // Answered: nothing is left written down for another replica to undo.
    await sleep(100);
    expect(await redis.client.hlen(`vsg:leftovers:${replicaIdOf(set, 1)}`)).toBe(0);

    // The other replica dies; the answered file is none of its business, nor the survivor's.
    await replicas[0]!.stop('SIGKILL');
    await sleep(FOUND_WITHIN_MS + 1_000);
    expect(emulator.inspect().files).toBe(1);
    expect(set.routeCalls(ROUTES.delete)).toBe(0);
    expect(await redis.client.scard('vsg:replicas')).toBe(1);
  }, 60_000);
});

/** The id a replica goes by in Redis, as it said at start. */
function replicaIdOf(set: ReplicaSet, index: number): string {
  const said = /as replica (\S+)/.exec(set.replicas[index]!.output());
  if (!said) throw new Error(`replica ${index} did not say which it is:\n${set.replicas[index]!.output()}`);
  return said[1]!;
}
