import OpenAI, { toFile } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import {
  createUpstreamClients,
  defaultUpstreamPolicy,
  type LoggedLeftover,
  sharedCredentialId,
  type UpstreamCall,
} from '../../src/upstream/index.ts';
import { leftoverUndo } from '../../src/upstream/leftover-undo.ts';
import { TEST_API_KEY } from '../support/gateway.ts';

/**
 * What a survivor does with each kind of leftover a dead replica wrote down, against the
 * emulator over HTTP with the real SDK: nothing of the dead replica's is left upstream, and
 * nothing else is touched.
 */
describe('undoing a dead replica leftovers', () => {
  let emulator: Emulator;
  let openai: OpenAI;
  let undo: (entry: LoggedLeftover) => Promise<boolean | null>;
  let credential: string;
  const calls: string[] = [];

  beforeEach(async () => {
    emulator = createEmulator();
    const { baseURL } = await emulator.listen();
    openai = new OpenAI({ apiKey: TEST_API_KEY, baseURL, maxRetries: 0 });
    const named = { apiKey: TEST_API_KEY, baseURL };
    const clients = createUpstreamClients(new Map([['main', named]]), defaultUpstreamPolicy);
    calls.length = 0;
    undo = leftoverUndo(clients, defaultUpstreamPolicy, (call: UpstreamCall, name) =>
      calls.push(`${name} ${call.operation} ${call.outcome}`),
    );
    credential = sharedCredentialId(named);
  });
  afterEach(() => emulator.close());

  const at = () => Math.floor(Date.now() / 1000);
  /** An upload of 4 bytes, open; and the leftover its replica would have written down. */
  const openUpload = (filename: string) =>
    openai.uploads.create({
      filename,
      purpose: 'assistants',
      bytes: 4,
      mime_type: 'application/octet-stream',
    });
  const uploadEntry = (upload: { id: string; created_at: number; filename: string }): LoggedLeftover => ({
    credential,
    kind: 'upload',
    uploadId: upload.id,
    filename: upload.filename,
    purpose: 'assistants',
    bytes: 4,
    at: upload.created_at,
  });
  const create = async (name: string, content = 'some bytes') =>
    openai.files.create({ file: await toFile(Buffer.from(content), name), purpose: 'assistants' });

  it('deletes a File, and takes one already gone as undone', async () => {
    const file = await create('left.txt');
    expect(await undo({ credential, kind: 'file', fileId: file.id })).toBe(true);
    expect(await undo({ credential, kind: 'file', fileId: file.id })).toBe(true);
    expect(emulator.inspect().files).toBe(0);
    expect(calls).toEqual(['main files.delete ok', 'main files.delete NOT_FOUND']);
  });

  it('finds the File of a body that went out whole, by name, purpose, size and time', async () => {
    const started = at();
    const other = await create('same-name.txt', 'a different size');
    const sent = await create('same-name.txt', '12 bytes ok');
    const done = await undo({
      credential,
      kind: 'sending',
      filename: 'same-name.txt',
      purpose: 'assistants',
      at: started,
      bytes: sent.bytes,
    });
    expect(done).toBe(true);
    expect((await openai.files.list()).data.map((file) => file.id)).toEqual([other.id]);
  });

  it('leaves everything when the body never went out whole: no File can have come of it', async () => {
    await create('cut.txt');
    const entry = {
      credential,
      kind: 'sending',
      filename: 'cut.txt',
      purpose: 'assistants',
      at: at(),
    } as const;
    expect(await undo(entry)).toBe(true);
    expect(emulator.inspect().files).toBe(1);
    expect(calls).toEqual([]);
  });

  it('cancels an open upload', async () => {
    const upload = await openUpload('big.bin');
    await openai.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('ab'), 'part') });
    expect(await undo(uploadEntry(upload))).toBe(true);
    expect(emulator.inspect()).toMatchObject({ openUploads: 0, uploadPartBytes: 0, files: 0 });
  });

  it('deletes the File of an upload completed before its replica saw the answer', async () => {
    const upload = await openUpload('done.bin');
    const part = await openai.uploads.parts.create(upload.id, {
      data: await toFile(Buffer.from('abcd'), 'part'),
    });
    await openai.uploads.complete(upload.id, { part_ids: [part.id] });
    expect(emulator.inspect().files).toBe(1);
    expect(await undo(uploadEntry(upload))).toBe(true);
    expect(emulator.inspect().files).toBe(0);
    expect(calls).toEqual([
      'main uploads.cancel UPSTREAM_REJECTED',
      'main files.list ok',
      'main files.delete ok',
    ]);
  });

  it('leaves a credential it does not hold to a replica that does, and retries what failed', async () => {
    const file = await create('other.txt');
    expect(await undo({ credential: 'someone-else', kind: 'file', fileId: file.id })).toBeNull();
    emulator.setFaults({ errorRate: 1, errorStatus: 503 });
    expect(await undo({ credential, kind: 'file', fileId: file.id })).toBe(false);
    emulator.setFaults(null);
    expect(emulator.inspect().files).toBe(1);
  });
});
