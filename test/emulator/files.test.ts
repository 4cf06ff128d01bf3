/** /v1/files through the SDK: expiry, purposes, listing by purpose and downloads. */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../support/clock.ts';
import { startEmulator, uploadText } from './helpers.ts';

describe('files', () => {
  it('expires_after sets expires_at from created_at; batch files expire after 30 days by default', async () => {
    const clock = new ManualClock();
    const { client } = await startEmulator({ clock });
    const file = new File(['x'], 'x.txt');
    const expiring = await client.files.create({
      file,
      purpose: 'assistants',
      expires_after: { anchor: 'created_at', seconds: 7200 },
    });
    expect(expiring.expires_at).toBe(expiring.created_at + 7200);
    // BatchTests/CanRehydrateBatchOperation(False): a batch file's expires_at is created_at + 2,592,000.
    const batch = await client.files.create({ file: new File(['{}'], 'b.jsonl'), purpose: 'batch' });
    expect(batch.expires_at).toBe(batch.created_at + 2_592_000);
    // FilesTests/UserDataPurpose: other purposes never expire unless asked (expires_at null).
    expect((await client.files.create({ file, purpose: 'user_data' })).expires_at).toBeNull();

    const store = await client.vectorStores.create({ file_ids: [expiring.id] });
    clock.advance(7_199_000);
    expect((await client.files.retrieve(expiring.id)).id).toBe(expiring.id);
    clock.advance(1000);
    await expect(client.files.retrieve(expiring.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect((await client.vectorStores.retrieve(store.id)).file_counts.total).toBe(0);
  });

  it('validates expires_after against the spec range 3600..2592000 seconds', async () => {
    const { client } = await startEmulator();
    const file = new File(['x'], 'x.txt');
    for (const [seconds, code] of [
      [3599, 'integer_below_min_value'],
      [2_592_001, 'integer_above_max_value'],
    ] as const) {
      await expect(
        client.files.create({
          file,
          purpose: 'assistants',
          expires_after: { anchor: 'created_at', seconds },
        }),
      ).rejects.toMatchObject({ status: 400, param: 'expires_after.seconds', code });
    }
    for (const seconds of [3600, 2_592_000]) {
      const created = await client.files.create({
        file,
        purpose: 'assistants',
        expires_after: { anchor: 'created_at', seconds },
      });
      expect(created.expires_at).toBe(created.created_at + seconds);
    }
    await expect(
      client.files.create({
        file,
        purpose: 'assistants',
        expires_after: { anchor: 'last_active_at' as 'created_at', seconds: 3600 },
      }),
    ).rejects.toMatchObject({ status: 400, param: 'expires_after.anchor' });
  });

  it('refuses an unknown purpose with the recorded message, and lists by purpose', async () => {
    const { client } = await startEmulator();
    // FilesTests/UploadFileCanParseServiceError.
    await expect(
      client.files.create({ file: new File(['x'], 'x.txt'), purpose: 'world_domination' as 'assistants' }),
    ).rejects.toMatchObject({
      status: 400,
      param: 'purpose',
      code: null,
      message:
        "400 'world_domination' is not one of ['fine-tune', 'assistants', 'batch', 'user_data', 'vision', 'evals'] - 'purpose'",
    });
    const assistants = await uploadText(client, 'a.txt', 'a');
    const vision = await uploadText(client, 'v.txt', 'v', 'user_data');
    // FilesTests/ListFiles: ?purpose=assistants leaves the other purposes out.
    expect((await client.files.list({ purpose: 'assistants' })).data.map((file) => file.id)).toEqual([
      assistants.id,
    ]);
    expect((await client.files.list({ purpose: 'user_data' })).data.map((file) => file.id)).toEqual([
      vision.id,
    ]);
    expect((await client.files.list({ purpose: 'vision' })).data).toEqual([]);
    expect((await client.files.list()).data).toHaveLength(2);
  });

  it('downloads the bytes through the SDK, and answers unknown ids with NotFoundError', async () => {
    const { client } = await startEmulator();
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
    const file = await client.files.create({ file: new File([bytes], 'image.png'), purpose: 'vision' });
    const response = await client.files.content(file.id);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="image.png"');
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
    for (const call of [
      () => client.files.retrieve('fake_id'),
      () => client.files.delete('fake_id'),
      () => client.files.content('fake_id'),
    ]) {
      await expect(call()).rejects.toMatchObject({
        status: 404,
        param: 'id',
        message: '404 No such File object: fake_id',
      });
    }
  });
});
