/**
 * `/v1/uploads`: a File assembled from parts, for files past the 512 MB of `POST /files`.
 *
 * What is recorded (openai-dotnet tests/SessionRecords/UploadsTests, 2025-09): create answers
 * `status: "pending"` with `expires_at = created_at + 3600` and no `file` key; a part is
 * `{id: "part_<32 hex>", object: "upload.part", created_at, upload_id}`; complete answers
 * `status: "completed"` with a nested File whose `created_at` is the upload's; cancel takes no
 * body and answers `status: "cancelled"`. The limits are the spec's: 8 GB per upload, 64 MB per
 * part, expiry after an hour, completion only when the listed parts add up to `bytes`, no parts
 * after completion or cancellation.
 *
 * No error of this API was ever recorded. Its messages here are chosen in the style of the
 * recorded Files API errors of the same family (`No such File object: fake_id`, param `id`, a
 * top-level `detail`) and OpenAI's usual `Invalid '<param>': ...` wording; treat them as invented.
 */
import { constants } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  type ApiError,
  badRequest,
  invalidType,
  missingParameter,
  payloadTooLarge,
  unknownParameter,
} from './errors.ts';
import { invalidPurpose, renderFile, storageFullError } from './files.ts';
import { json, type Reply } from './http.ts';
import { parseUpload } from './multipart.ts';
import type { Route, RouteContext } from './router.ts';
import type { StoredFile, UploadPartRecord, UploadRecord, UploadStatus } from './state.ts';
import {
  expectArray,
  expectInteger,
  expectObject,
  parseFileExpiry,
  rejectUnknownKeys,
} from './validation.ts';

const { MAX_LENGTH } = constants;

export const MAX_UPLOAD_BYTES = 8 * 1024 ** 3;
export const MAX_PART_BYTES = 64 * 1024 * 1024;
/**
 * The purposes an upload takes. The vendored spec (openai-openapi 2.3.0, CreateUploadRequest)
 * lists four: assistants, batch, fine-tune, vision. The SDKs OpenAI generates from its current
 * spec type the field as FilePurpose, the six `POST /files` takes (openai-node 6.49
 * `UploadCreateParams.purpose: FilesAPI.FilePurpose`, openai-python `purpose:
 * Required[FilePurpose]`), and `user_data` is the purpose meant for files of any kind, large ones
 * included. The newer, wider list is followed; no recording shows an upload with `user_data` or
 * `evals`, nor a refused purpose. Order: the spec's four, then the SDK's two.
 */
const UPLOAD_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const;

/** Key order as recorded; `file` only once completed (absent, not null, before). */
export function renderUpload(upload: UploadRecord, status: UploadStatus, file?: StoredFile) {
  return {
    id: upload.id,
    object: 'upload' as const,
    bytes: upload.bytes,
    created_at: upload.createdAt,
    filename: upload.filename,
    purpose: upload.purpose,
    status,
    expires_at: upload.expiresAt,
    ...(file ? { file: renderFile(file) } : {}),
  };
}

function renderPart(part: UploadPartRecord) {
  return {
    id: part.id,
    object: 'upload.part' as const,
    created_at: part.createdAt,
    upload_id: part.uploadId,
  };
}

function requiredString(body: Record<string, unknown>, param: string): string {
  const value = body[param];
  if (value === undefined) throw missingParameter(param);
  if (typeof value !== 'string') throw invalidType(param, 'a string', value);
  if (value.trim() === '') {
    throw badRequest(`Invalid '${param}': empty string. Expected a non-empty string.`, param, 'empty_string');
  }
  return value;
}

/**
 * `mime_type` is required but not checked against the purpose: the spec asks for a supported type
 * but no rejection was ever recorded, and the SDK's own tests send `mime_type: 'mime_type'`.
 * `expires_after` (FileExpirationAfter, "the expiration policy for a file") sets the lifetime of
 * the File made at completion; the upload itself always expires an hour after creation.
 */
async function createUpload(ctx: RouteContext): Promise<Reply> {
  const body = expectObject((await ctx.body()) ?? {}, 'body');
  rejectUnknownKeys(body, ['filename', 'purpose', 'bytes', 'mime_type', 'expires_after']);
  const filename = requiredString(body, 'filename');
  const purpose = requiredString(body, 'purpose');
  if (!(UPLOAD_PURPOSES as readonly string[]).includes(purpose))
    throw invalidPurpose(purpose, UPLOAD_PURPOSES);
  if (body.bytes === undefined) throw missingParameter('bytes');
  const bytes = expectInteger(body.bytes, 'bytes', { min: 0, max: MAX_UPLOAD_BYTES });
  const mimeType = requiredString(body, 'mime_type');
  const fileExpiresAfterSeconds =
    body.expires_after == null ? undefined : parseFileExpiry(body.expires_after);
  const upload = ctx.state.createUpload({ filename, purpose, bytes, mimeType, fileExpiresAfterSeconds });
  return json(renderUpload(upload, 'pending'));
}

/** The upload named in the path, which must still take parts or be completed. */
function pendingUpload(ctx: RouteContext, action: 'add parts to' | 'complete' | 'cancel'): UploadRecord {
  const upload = ctx.state.getUpload(ctx.params.upload_id!);
  const status = ctx.state.uploadStatus(upload);
  if (status !== 'pending') throw wrongStatus(upload, status, action);
  return upload;
}

function wrongStatus(upload: UploadRecord, status: UploadStatus, action: string): ApiError {
  return badRequest(`Cannot ${action} upload ${upload.id} with status '${status}'.`);
}

/** Reads and drops the rest of a body that will not be used, so the connection stays usable. */
async function discard(req: IncomingMessage): Promise<void> {
  try {
    for await (const _ of req);
  } catch {
    // The client went away; there is nothing left to drain.
  }
}

/**
 * One part, streamed in as multipart field `data` (a file part, as the SDK and openai-dotnet send
 * it; a plain text field, as in the spec's curl example, is taken up to 64 KiB). Parts may arrive
 * in parallel; their order is decided at completion.
 */
async function addPart(ctx: RouteContext): Promise<Reply> {
  const { state, settings } = ctx;
  let upload: UploadRecord;
  try {
    upload = pendingUpload(ctx, 'add parts to');
  } catch (error) {
    await discard(ctx.req);
    throw error;
  }
  const capacity = Math.max(0, settings.maxStoredBytes - state.storedBytes);
  const room = Math.max(0, MAX_UPLOAD_BYTES - upload.partBytes);
  const maxFileBytes = Math.min(MAX_PART_BYTES, capacity, room);
  state.uploadsInFlight += 1;
  let parsed: Awaited<ReturnType<typeof parseUpload>>;
  try {
    parsed = await parseUpload(ctx.req, { fileField: 'data', maxFileBytes });
  } finally {
    state.uploadsInFlight -= 1;
  }
  // A part's bytes are logged as their count.
  ctx.note({ data: parsed.file?.size ?? parsed.fields.get('data')?.length });
  for (const name of parsed.fields.keys()) {
    if (name !== 'data') throw unknownParameter(name);
  }
  if (parsed.oversized || parsed.truncatedFields.has('data')) {
    if (maxFileBytes === MAX_PART_BYTES || parsed.truncatedFields.has('data')) {
      throw payloadTooLarge(
        parsed.truncatedFields.has('data')
          ? "Part too large: send 'data' as a file part; as a text field it is limited to 65536 bytes."
          : `Part too large: each part can be at most ${MAX_PART_BYTES} bytes (64 MB).`,
        'data',
      );
    }
    if (maxFileBytes === room) {
      throw badRequest(
        `Upload too large: the parts of an upload can add up to at most ${MAX_UPLOAD_BYTES} bytes (8 GB), and ${upload.partBytes} are already uploaded.`,
        'data',
      );
    }
    throw storageFullError(state, settings.maxStoredBytes, 'data');
  }
  let chunks: Buffer[];
  let size: number;
  if (parsed.file) {
    ({ chunks, size } = parsed.file);
  } else if (parsed.fields.has('data')) {
    const data = Buffer.from(parsed.fields.get('data')!, 'utf8');
    [chunks, size] = [[data], data.length];
  } else {
    throw missingParameter('data');
  }
  // The upload may have been cancelled, or other parts may have filled the storage, meanwhile.
  const status = state.uploadStatus(upload);
  if (status !== 'pending') throw wrongStatus(upload, status, 'add parts to');
  if (state.storedBytes + size > settings.maxStoredBytes)
    throw storageFullError(state, settings.maxStoredBytes, 'data');
  return json(renderPart(state.addUploadPart(upload, chunks, size)));
}

function parseCompletion(raw: unknown): { partIds: string[]; md5: string | undefined } {
  const body = expectObject(raw ?? {}, 'body');
  rejectUnknownKeys(body, ['part_ids', 'md5']);
  if (body.part_ids === undefined) throw missingParameter('part_ids');
  const partIds = expectArray(body.part_ids, 'part_ids', { min: 0, max: Number.MAX_SAFE_INTEGER }).map(
    (id, index) => {
      if (typeof id !== 'string') throw invalidType(`part_ids[${index}]`, 'a string', id);
      return id;
    },
  );
  if (body.md5 !== undefined && typeof body.md5 !== 'string') throw invalidType('md5', 'a string', body.md5);
  return { partIds, md5: body.md5 };
}

/**
 * Checks that the listed parts belong to the upload, appear once and add up to `bytes`, and that
 * `md5` (when given) is their checksum; then makes the File. Parts left out are dropped. A
 * fixture upload takes placeholder ids and skips the checks (the SDK's tests send
 * `part_ids: ['string']` and `md5: 'md5'`).
 */
async function completeUpload(ctx: RouteContext): Promise<Reply> {
  const { state } = ctx;
  const { partIds, md5 } = parseCompletion(await ctx.body());
  const upload = pendingUpload(ctx, 'complete');
  const seen = new Set<string>();
  const parts: UploadPartRecord[] = [];
  for (const [index, id] of partIds.entries()) {
    const param = `part_ids[${index}]`;
    const part = upload.parts.get(id);
    if (!part) {
      if (upload.fixture) continue;
      throw badRequest(
        `Invalid '${param}': '${id}' is not a part of upload ${upload.id}.`,
        param,
        'invalid_value',
      );
    }
    if (seen.has(id)) {
      throw badRequest(`Invalid '${param}': part '${id}' is listed more than once.`, param, 'invalid_value');
    }
    seen.add(id);
    parts.push(part);
  }
  if (!upload.fixture) {
    const total = parts.reduce((sum, part) => sum + part.bytes, 0);
    if (total !== upload.bytes) {
      throw badRequest(
        `Invalid 'part_ids': the parts add up to ${total} bytes, but the upload was created with bytes=${upload.bytes}. The number of bytes uploaded upon completion must match the number of bytes initially specified.`,
        'part_ids',
        'invalid_value',
      );
    }
    if (md5 !== undefined) {
      const hash = createHash('md5');
      for (const part of parts) for (const chunk of part.chunks) hash.update(chunk);
      const actual = hash.digest('hex');
      if (actual !== md5.toLowerCase()) {
        throw badRequest(
          `Invalid 'md5': the uploaded bytes have the md5 checksum '${actual}', not '${md5}'.`,
          'md5',
          'invalid_value',
        );
      }
    }
  }
  const total = parts.reduce((sum, part) => sum + part.bytes, 0);
  if (total > MAX_LENGTH) {
    // A File is kept as one Buffer, which Node 20 caps at 4 GiB; the real API takes up to 8 GB.
    // Said plainly, where allocating it would fail as a 500.
    throw payloadTooLarge(
      `The emulator keeps a file in one buffer, at most ${MAX_LENGTH} bytes on this Node version; this upload has ${total}.`,
      'part_ids',
    );
  }
  const file = state.completeUpload(upload, parts);
  return json(renderUpload(upload, 'completed', file));
}

/**
 * Cancels a pending upload and drops its parts. Cancelling it again answers it as it is (a retried
 * cancel should not fail); a completed or expired upload cannot be cancelled.
 */
function cancelUpload(ctx: RouteContext): Reply {
  const { state } = ctx;
  const upload = state.getUpload(ctx.params.upload_id!);
  const status = state.uploadStatus(upload);
  if (status === 'cancelled') return json(renderUpload(upload, status));
  if (status !== 'pending') throw wrongStatus(upload, status, 'cancel');
  state.cancelUpload(upload);
  return json(renderUpload(upload, 'cancelled'));
}

// The Files API's conventions (opaque ids, `detail` on errors) are assumed for its Uploads part.
export const uploadRoutes: Route[] = [
  { method: 'POST', template: '/v1/uploads', handler: createUpload, filesApi: true },
  { method: 'POST', template: '/v1/uploads/{upload_id}/parts', handler: addPart, filesApi: true },
  { method: 'POST', template: '/v1/uploads/{upload_id}/complete', handler: completeUpload, filesApi: true },
  { method: 'POST', template: '/v1/uploads/{upload_id}/cancel', handler: cancelUpload, filesApi: true },
];
