/**
 * The Uploads API (`/v1/uploads`) through the SDK. Shapes follow the recordings of openai-dotnet
 * tests/SessionRecords/UploadsTests (CreateUploadWorks, AddUploadPartWorks, CompleteUploadWorks,
 * CancelUploadWorks); limits and rules follow the spec. No upload error was ever recorded: the
 * tests pin the status codes and params chosen for them, and only the gist of their wording.
 */
import { createHash } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/clock.ts';
import { type Harness, startEmulator } from './helpers.ts';

async function setup(): Promise<Harness & { clock: ManualClock }> {
  const clock = new ManualClock();
  return { clock, ...(await startEmulator({ clock })) };
}

const part = (client: OpenAI, uploadId: string, bytes: string) =>
  client.uploads.parts.create(uploadId, { data: new File([bytes], 'data') });

const create = (client: OpenAI, bytes: number, extra: Partial<OpenAI.Uploads.UploadCreateParams> = {}) =>
  client.uploads.create({
    bytes,
    filename: 'train.jsonl',
    mime_type: 'text/jsonl',
    purpose: 'fine-tune',
    ...extra,
  });

describe('uploads', () => {
  it('creates a pending upload that expires an hour after creation, with no file key (CreateUploadWorks)', async () => {
    const { client, api } = await setup();
    const upload = await create(client, 8);
    expect(upload.id).toMatch(/^upload_[0-9a-f]{32}$/);
    expect(upload).toEqual({
      id: upload.id,
      object: 'upload',
      bytes: 8,
      created_at: upload.created_at,
      filename: 'train.jsonl',
      purpose: 'fine-tune',
      status: 'pending',
      expires_at: upload.created_at + 3600,
    });
    const raw = await api('/uploads', {
      method: 'POST',
      json: { purpose: 'assistants', filename: 'a.txt', bytes: 1, mime_type: 'text/plain' },
    });
    expect(Object.keys((await raw.json()) as object)).toEqual([
      'id',
      'object',
      'bytes',
      'created_at',
      'filename',
      'purpose',
      'status',
      'expires_at',
    ]);
  });

  it('adds parts and completes them, in the order given, into a File created when the upload was', async () => {
    const { client, clock, emulator } = await setup();
    const upload = await create(client, 11);
    clock.advance(5000);
    const first = await part(client, upload.id, 'Hello, ');
    // AddUploadPartWorks: {id: part_<32 hex>, object: upload.part, created_at, upload_id}.
    expect(first).toEqual({
      id: first.id,
      object: 'upload.part',
      created_at: upload.created_at + 5,
      upload_id: upload.id,
    });
    expect(first.id).toMatch(/^part_[0-9a-f]{32}$/);
    const second = await part(client, upload.id, 'word');
    const unused = await part(client, upload.id, 'left out');
    expect(emulator.inspect()).toMatchObject({
      openUploads: 1,
      uploadPartBytes: 19,
      storedBytes: 19,
      files: 0,
    });

    const md5 = createHash('md5').update('wordHello, ').digest('hex');
    const done = await client.uploads.complete(upload.id, { part_ids: [second.id, first.id], md5 });
    // CompleteUploadWorks: the nested File's created_at is the upload's, not the completion time.
    expect(done).toEqual({
      ...upload,
      status: 'completed',
      file: {
        object: 'file',
        id: done.file!.id,
        purpose: 'fine-tune',
        filename: 'train.jsonl',
        bytes: 11,
        created_at: upload.created_at,
        expires_at: null,
        status: 'processed',
        status_details: null,
      },
    });
    expect(await (await client.files.content(done.file!.id)).text()).toBe('wordHello, ');
    expect(await client.files.retrieve(done.file!.id)).toEqual(done.file);
    // The left-out part is gone with the others; the bytes now live in the File alone.
    expect(emulator.inspect()).toMatchObject({
      openUploads: 0,
      uploadPartBytes: 0,
      storedBytes: 11,
      files: 1,
    });
    expect(unused.upload_id).toBe(upload.id);
  });

  it('gives the File the lifetime asked for in expires_after', async () => {
    const { client } = await setup();
    const upload = await create(client, 1, {
      purpose: 'assistants',
      expires_after: { anchor: 'created_at', seconds: 7200 },
    });
    expect(upload.expires_at).toBe(upload.created_at + 3600);
    const piece = await part(client, upload.id, 'x');
    const done = await client.uploads.complete(upload.id, { part_ids: [piece.id] });
    expect(done.file).toMatchObject({ created_at: upload.created_at, expires_at: upload.created_at + 7200 });
    const batch = await create(client, 1, { purpose: 'batch', filename: 'b.jsonl' });
    const batchDone = await client.uploads.complete(batch.id, {
      part_ids: [(await part(client, batch.id, '{')).id],
    });
    expect(batchDone.file?.expires_at).toBe(batch.created_at + 2_592_000);
  });

  it('takes every purpose POST /files takes, user_data and evals included (the SDK types it FilePurpose)', async () => {
    const { client } = await setup();
    for (const purpose of ['user_data', 'evals'] as const) {
      const upload = await create(client, 2, { purpose });
      const done = await client.uploads.complete(upload.id, {
        part_ids: [(await part(client, upload.id, 'ok')).id],
      });
      expect(done.file).toMatchObject({ purpose, bytes: 2 });
    }
  });

  it('cancels with no body, drops the parts, and refuses parts or completion afterwards (CancelUploadWorks)', async () => {
    const { client, emulator, api } = await setup();
    const upload = await create(client, 4);
    const piece = await part(client, upload.id, 'abcd');
    const cancel = await api(`/uploads/${upload.id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toEqual({ ...upload, status: 'cancelled' });
    expect(emulator.inspect()).toMatchObject({ openUploads: 0, uploadPartBytes: 0, storedBytes: 0 });
    // A retried cancel answers the same; parts and completion are refused.
    expect(await client.uploads.cancel(upload.id)).toEqual({ ...upload, status: 'cancelled' });
    await expect(part(client, upload.id, 'more')).rejects.toMatchObject({
      status: 400,
      message: `400 Cannot add parts to upload ${upload.id} with status 'cancelled'.`,
    });
    await expect(client.uploads.complete(upload.id, { part_ids: [piece.id] })).rejects.toMatchObject({
      status: 400,
      message: `400 Cannot complete upload ${upload.id} with status 'cancelled'.`,
    });
  });

  it('refuses a completion whose parts are unknown, repeated, short or do not match md5', async () => {
    const { client } = await setup();
    const upload = await create(client, 6);
    const other = await create(client, 3);
    const a = await part(client, upload.id, 'abc');
    const b = await part(client, upload.id, 'def');
    const foreign = await part(client, other.id, 'xyz');
    const cases: Array<[OpenAI.Uploads.UploadCompleteParams, string]> = [
      [{ part_ids: [a.id, 'part_missing'] }, 'part_ids[1]'],
      [{ part_ids: [a.id, foreign.id] }, 'part_ids[1]'],
      [{ part_ids: [a.id, a.id] }, 'part_ids[1]'],
      [{ part_ids: [a.id] }, 'part_ids'],
      [{ part_ids: [a.id, b.id], md5: createHash('md5').update('defabc').digest('hex') }, 'md5'],
    ];
    for (const [body, param] of cases) {
      await expect(client.uploads.complete(upload.id, body), JSON.stringify(body)).rejects.toMatchObject({
        status: 400,
        param,
        type: 'invalid_request_error',
      });
    }
    // A failed completion changes nothing: the same upload still completes.
    // md5 is compared as hex, whatever its case.
    const md5 = createHash('md5').update('abcdef').digest('hex').toUpperCase();
    const done = await client.uploads.complete(upload.id, { part_ids: [a.id, b.id], md5 });
    expect(done.status).toBe('completed');
    await expect(part(client, upload.id, 'late')).rejects.toMatchObject({
      status: 400,
      message: `400 Cannot add parts to upload ${upload.id} with status 'completed'.`,
    });
    await expect(client.uploads.complete(upload.id, { part_ids: [a.id, b.id] })).rejects.toMatchObject({
      status: 400,
    });
    await expect(client.uploads.cancel(upload.id)).rejects.toMatchObject({
      status: 400,
      message: `400 Cannot cancel upload ${upload.id} with status 'completed'.`,
    });
  });

  it('expires after an hour by the emulator clock, dropping its parts', async () => {
    const { client, clock, emulator } = await setup();
    const upload = await create(client, 2);
    const piece = await part(client, upload.id, 'ab');
    clock.advance(3_599_000);
    expect(emulator.inspect()).toMatchObject({ openUploads: 1, uploadPartBytes: 2 });
    clock.advance(1000);
    expect(emulator.inspect()).toMatchObject({ openUploads: 0, uploadPartBytes: 0, storedBytes: 0 });
    for (const call of [
      () => part(client, upload.id, 'c'),
      () => client.uploads.complete(upload.id, { part_ids: [piece.id] }),
      () => client.uploads.cancel(upload.id),
    ]) {
      await expect(call()).rejects.toMatchObject({
        status: 400,
        message: expect.stringContaining("status 'expired'"),
      });
    }
  });

  it('validates create against the spec and answers unknown uploads with 404', async () => {
    const { client, api } = await setup();
    const base = { bytes: 1, filename: 'a.txt', mime_type: 'text/plain', purpose: 'assistants' };
    const cases: Array<[Record<string, unknown>, string, string | null]> = [
      [{ ...base, bytes: undefined }, 'bytes', 'missing_required_parameter'],
      [{ ...base, filename: undefined }, 'filename', 'missing_required_parameter'],
      [{ ...base, mime_type: undefined }, 'mime_type', 'missing_required_parameter'],
      [{ ...base, purpose: undefined }, 'purpose', 'missing_required_parameter'],
      [{ ...base, purpose: 'world_domination' }, 'purpose', null],
      [{ ...base, bytes: 8 * 1024 ** 3 + 1 }, 'bytes', 'integer_above_max_value'],
      [{ ...base, bytes: -1 }, 'bytes', 'integer_below_min_value'],
      [{ ...base, bytes: '1' }, 'bytes', 'invalid_type'],
      [{ ...base, filename: '' }, 'filename', 'empty_string'],
      [
        { ...base, expires_after: { anchor: 'created_at', seconds: 60 } },
        'expires_after.seconds',
        'integer_below_min_value',
      ],
      [
        { ...base, expires_after: { anchor: 'last_active_at', seconds: 3600 } },
        'expires_after.anchor',
        'invalid_value',
      ],
      [{ ...base, colour: 'red' }, 'colour', 'unknown_parameter'],
    ];
    for (const [json, param, code] of cases) {
      const response = await api('/uploads', { method: 'POST', json });
      const body = (await response.json()) as { error: Record<string, unknown>; detail: unknown };
      expect(response.status, JSON.stringify(json)).toBe(400);
      expect(body.error, JSON.stringify(json)).toMatchObject({ param, code });
      expect(body.detail).toEqual({ message: body.error.message, code });
    }
    const purpose = await api('/uploads', { method: 'POST', json: { ...base, purpose: 'world_domination' } });
    expect(((await purpose.json()) as { error: { message: string } }).error.message).toBe(
      "'world_domination' is not one of ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] - 'purpose'",
    );
    // The largest upload the spec allows, and an empty one, are fine.
    expect((await create(client, 8 * 1024 ** 3)).status).toBe('pending');
    expect((await create(client, 0)).status).toBe('pending');

    for (const id of ['upload_0123456789abcdef0123456789abcdef', 'fake_id']) {
      await expect(client.uploads.cancel(id)).rejects.toMatchObject({
        status: 404,
        param: 'id',
        message: `404 No such Upload object: ${id}`,
      });
      await expect(part(client, id, 'x')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      await expect(client.uploads.complete(id, { part_ids: [] })).rejects.toBeInstanceOf(
        OpenAI.NotFoundError,
      );
    }
  });

  it('takes a part as a file or as a text field named data, and nothing else', async () => {
    const { client, api } = await setup();
    const upload = await create(client, 9);
    const asText = new FormData();
    asText.set('data', 'from curl');
    const text = await api(`/uploads/${upload.id}/parts`, { method: 'POST', body: asText });
    expect(text.status).toBe(200);
    const textPart = (await text.json()) as { id: string };
    const done = await client.uploads.complete(upload.id, { part_ids: [textPart.id] });
    expect(await (await client.files.content(done.file!.id)).text()).toBe('from curl');

    const other = await create(client, 1);
    const wrongField = new FormData();
    wrongField.set('file', new File(['x'], 'x'));
    expect((await api(`/uploads/${other.id}/parts`, { method: 'POST', body: wrongField })).status).toBe(400);
    const missing = await api(`/uploads/${other.id}/parts`, { method: 'POST', body: new FormData() });
    expect(((await missing.json()) as { error: unknown }).error).toMatchObject({
      param: 'data',
      code: 'missing_required_parameter',
    });
    await expect(
      client.uploads.parts.create(other.id, { data: await toFile(Buffer.from('x'), 'README.md') }),
    ).resolves.toMatchObject({ object: 'upload.part' });
  });

  it('counts parts against maxStoredBytes, and reset clears uploads', async () => {
    const { client, emulator, api } = await startEmulator({ maxStoredBytes: 10 });
    const upload = await create(client, 12);
    await part(client, upload.id, '123456');
    await expect(part(client, upload.id, '1234567')).rejects.toMatchObject({ status: 413, param: 'data' });
    expect(emulator.inspect()).toMatchObject({ storedBytes: 6, uploadPartBytes: 6 });
    expect(emulator.stats().byRoute).toMatchObject({
      'POST /v1/uploads': 1,
      'POST /v1/uploads/{upload_id}/parts': 2,
    });
    expect((await api('/__emulator/reset', { method: 'POST' })).status).toBe(200);
    expect(emulator.inspect()).toMatchObject({ storedBytes: 0, openUploads: 0, uploadPartBytes: 0 });
    await expect(client.uploads.cancel(upload.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});
