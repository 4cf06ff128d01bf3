/** `/v1/files`: upload (streaming multipart), list, retrieve, delete and raw content. */
import {
  type ApiError,
  badRequest,
  invalidEnum,
  missingParameter,
  payloadTooLarge,
  unknownParameter,
} from './errors.ts';
import { json, type Reply } from './http.ts';
import { formAsBody, type ParsedUpload, parseUpload } from './multipart.ts';
import { listPage } from './pagination.ts';
import type { Route, RouteContext } from './router.ts';
import type { StoredFile } from './state.ts';
import { FILE_EXPIRY_SECONDS, parseIntegerText, parseListParams } from './validation.ts';

/** The API's per-file limit; larger files go through the Uploads API (uploads.ts). */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;

/** Accepted on create, in the order the API lists them in its error message. */
const PURPOSES = ['fine-tune', 'assistants', 'batch', 'user_data', 'vision', 'evals'] as const;
const UPLOAD_FIELDS = new Set(['purpose', 'expires_after[anchor]', 'expires_after[seconds]']);

export function renderFile(file: StoredFile) {
  return {
    object: 'file' as const,
    id: file.id,
    purpose: file.purpose,
    filename: file.filename,
    bytes: file.bytes,
    created_at: file.createdAt,
    expires_at: file.expiresAt,
    status: 'processed' as const,
    status_details: null,
  };
}

/** The SDK sends `expires_after` as bracketed multipart fields. */
function parseFileExpiry(fields: Map<string, string>): number | undefined {
  const anchor = fields.get('expires_after[anchor]');
  const seconds = fields.get('expires_after[seconds]');
  if (anchor === undefined && seconds === undefined) return undefined;
  if (anchor === undefined) throw missingParameter('expires_after.anchor');
  if (anchor !== 'created_at') throw invalidEnum('expires_after.anchor', anchor, ['created_at']);
  if (seconds === undefined) throw missingParameter('expires_after.seconds');
  return parseIntegerText(seconds, 'expires_after.seconds', FILE_EXPIRY_SECONDS);
}

/**
 * The recorded wording for a purpose outside the list (FilesTests/UploadFileCanParseServiceError):
 * `'world_domination' is not one of ['fine-tune', ...] - 'purpose'`, with code null.
 */
export function invalidPurpose(purpose: string, allowed: readonly string[]): ApiError {
  return badRequest(
    `'${purpose}' is not one of [${allowed.map((p) => `'${p}'`).join(', ')}] - 'purpose'`,
    'purpose',
  );
}

export function storageFullError(
  state: RouteContext['state'],
  maxStoredBytes: number,
  param = 'file',
): ApiError {
  return payloadTooLarge(
    `Storage limit reached: the emulator stores at most ${maxStoredBytes} bytes of files and upload parts, and ${state.storedBytes} are in use. Delete files or raise EMULATOR_MAX_STORED_BYTES.`,
    param,
  );
}

async function createFile(ctx: RouteContext): Promise<Reply> {
  const { state, settings } = ctx;
  const capacity = Math.max(0, settings.maxStoredBytes - state.storedBytes);
  const maxFileBytes = Math.min(MAX_FILE_BYTES, capacity);
  state.uploadsInFlight += 1;
  let upload: ParsedUpload;
  try {
    upload = await parseUpload(ctx.req, { fileField: 'file', maxFileBytes });
  } finally {
    state.uploadsInFlight -= 1;
  }

  ctx.note({ ...formAsBody(upload.fields), ...(upload.file ? { file: upload.file.filename } : {}) });
  for (const name of upload.fields.keys()) {
    if (!UPLOAD_FIELDS.has(name)) throw unknownParameter(name);
  }
  if (upload.oversized) {
    if (maxFileBytes === MAX_FILE_BYTES) {
      throw payloadTooLarge(
        `File too large: the maximum size of a file is ${MAX_FILE_BYTES} bytes (512 MB).`,
        'file',
      );
    }
    throw storageFullError(state, settings.maxStoredBytes);
  }
  const purpose = upload.fields.get('purpose');
  if (purpose === undefined) throw missingParameter('purpose');
  if (!(PURPOSES as readonly string[]).includes(purpose)) throw invalidPurpose(purpose, PURPOSES);
  const expiresAfterSeconds = parseFileExpiry(upload.fields);
  if (!upload.file) throw missingParameter('file');
  // Another upload may have finished while this one streamed in.
  if (state.storedBytes + upload.file.size > settings.maxStoredBytes) {
    throw storageFullError(state, settings.maxStoredBytes);
  }
  const file = state.addFile({
    filename: upload.file.filename || 'unknown_file',
    purpose,
    content: Buffer.concat(upload.file.chunks, upload.file.size),
    expiresAfterSeconds,
  });
  return json(renderFile(file));
}

function listFiles(ctx: RouteContext): Reply {
  const params = parseListParams(ctx.query, { defaultLimit: 10_000, maxLimit: 10_000, allowBefore: false });
  const purpose = ctx.query.get('purpose') || undefined;
  const files = [...ctx.state.files.values()].filter(
    (file) => purpose === undefined || file.purpose === purpose,
  );
  return json(listPage(files, params, renderFile, ctx.settings));
}

function retrieveFile(ctx: RouteContext): Reply {
  return json(renderFile(ctx.state.getFile(ctx.params.file_id!)));
}

function deleteFile(ctx: RouteContext): Reply {
  const id = ctx.params.file_id!;
  ctx.state.deleteFile(id);
  // Key order as observed on the wire.
  return json({ object: 'file', deleted: true, id });
}

/**
 * Raw bytes as `application/octet-stream` whatever the file type, with the name in an attachment
 * Content-Disposition (openai-dotnet FilesTests/DownloadContent: `attachment;
 * filename="images_dog_and_cat.png"`; also ruby-openai's files_content cassette). No recording has
 * a non-ASCII name here: such names get an ASCII fallback plus RFC 6266 `filename*`, since a
 * header cannot carry them raw.
 */
function downloadFile(ctx: RouteContext): Reply {
  const file = ctx.state.getFile(ctx.params.file_id!);
  return {
    status: 200,
    raw: { data: file.content, contentType: 'application/octet-stream' },
    headers: { 'content-disposition': contentDisposition(file.filename) },
  };
}

export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '\\$&');
  if (/^[\x20-\x7e]*$/.test(filename)) return `attachment; filename="${fallback}"`;
  // RFC 5987 attr-chars stay as they are; every other UTF-8 byte is percent-encoded.
  let encoded = '';
  for (const byte of Buffer.from(filename, 'utf8')) {
    const char = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9!#$&+\-.^_`|~]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

export const fileRoutes: Route[] = [
  { method: 'POST', template: '/v1/files', handler: createFile, filesApi: true },
  { method: 'GET', template: '/v1/files', handler: listFiles, filesApi: true },
  { method: 'GET', template: '/v1/files/{file_id}', handler: retrieveFile, filesApi: true },
  { method: 'DELETE', template: '/v1/files/{file_id}', handler: deleteFile, filesApi: true },
  { method: 'GET', template: '/v1/files/{file_id}/content', handler: downloadFile, filesApi: true },
];
