/**
 * Streaming multipart parsing for uploads. The body is parsed as it arrives (chunked bodies with no
 * Content-Length included); file bytes are kept only up to the size the caller allows, and beyond
 * it the rest of the part is read and dropped so the client still receives a clean 4xx.
 */
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { badRequest, unknownParameter } from './errors.ts';

export interface ParsedUpload {
  fields: Map<string, string>;
  /** Text fields longer than busboy's field limit (64 KiB), whose value was cut short. */
  truncatedFields: Set<string>;
  /**
   * The file part as the chunks it arrived in, so a caller that keeps them (upload parts) holds
   * the bytes once instead of a second, concatenated copy.
   */
  file: { filename: string; chunks: Buffer[]; size: number } | null;
  /** Set when the file part was larger than `maxFileBytes`; `file` is then null. */
  oversized: boolean;
}

/** The client went away mid-upload; there is nobody left to answer. */
export class UploadAbortedError extends Error {
  constructor() {
    super('The client aborted the upload.');
    this.name = 'UploadAbortedError';
  }
}

export function parseUpload(
  req: IncomingMessage,
  options: { fileField: string; maxFileBytes: number },
): Promise<ParsedUpload> {
  const contentType = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(contentType)) {
    return Promise.reject(
      badRequest(
        `Invalid Content-Type header (${contentType || 'none'}), expected multipart/form-data. (HINT: If you're using curl, you can pass -H 'Content-Type: multipart/form-data')`,
      ),
    );
  }

  return new Promise<ParsedUpload>((resolve, reject) => {
    const result: ParsedUpload = {
      fields: new Map(),
      truncatedFields: new Set(),
      file: null,
      oversized: false,
    };
    let settled = false;
    const settle = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      req.off('close', onClose);
      if (error) {
        req.unpipe(parser);
        reject(error);
      } else {
        resolve(result);
      }
    };
    const onClose = (): void => {
      if (!req.complete) settle(new UploadAbortedError());
    };
    req.on('close', onClose);

    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // Raw non-ASCII filenames are UTF-8 in practice; `filename*` carries its own charset.
        defParamCharset: 'utf8',
        // busboy reports 'limit' on reaching fileSize, so one byte more means "larger than allowed".
        limits: { files: 1, fileSize: options.maxFileBytes + 1, fields: 16, fieldSize: 64 * 1024 },
      });
    } catch (error) {
      settle(badRequest(`Invalid multipart body: ${error instanceof Error ? error.message : String(error)}`));
      return;
    }

    parser.on('file', (name, stream, info) => {
      if (name !== options.fileField) {
        stream.resume();
        settle(unknownParameter(name));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        if (result.oversized) return;
        chunks.push(chunk);
        size += chunk.length;
      });
      // busboy also fails the part's stream when the body is cut short; the parser's own 'error'
      // reports it, so this listener only keeps the stream error from going unhandled.
      stream.on('error', () => {});
      stream.on('limit', () => {
        result.oversized = true;
        chunks.length = 0;
      });
      stream.on('end', () => {
        if (!result.oversized) result.file = { filename: info.filename ?? '', chunks, size };
      });
    });
    parser.on('field', (name, value, info) => {
      result.fields.set(name, value);
      if (info.valueTruncated) result.truncatedFields.add(name);
    });
    parser.on('error', (error: unknown) => {
      settle(badRequest(`Invalid multipart body: ${error instanceof Error ? error.message : String(error)}`));
    });
    // 'close' fires only after the closing boundary: an incomplete body never resolves.
    parser.on('close', () => settle(null));
    req.pipe(parser);
  });
}

/**
 * A form's fields as the request log shows them: `expires_after[anchor]` (how the SDK writes a
 * nested object into a form) under `expires_after.anchor`, so a form reads like a JSON body.
 */
export function formAsBody(fields: ReadonlyMap<string, string>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, value] of fields) {
    const path = name.split(/\[|\]\[|\]$/).filter(Boolean);
    let target = body;
    for (const key of path.slice(0, -1)) {
      if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[path.at(-1) ?? name] = value;
  }
  return body;
}
