import { create as attachment } from 'content-disposition';
import type { Plugin } from 'graphql-yoga';
import { parseFileId } from '../schema/ids.ts';
import { type Upstream, UpstreamError, type UpstreamErrorCode } from '../upstream/index.ts';
import { type FetchAPI, refusalResponse } from './refusal.ts';
import { fileContentTarget } from './routes.ts';

/**
 * `GET /files/{id}/content`: a File's bytes streamed from OpenAI to the caller, never held whole
 * and never base64 inside GraphQL. The access plugin has already decided this request under the
 * same rules as `/graphql` (tokens, credentials); `HEAD` answers the headers from one cheap read.
 */
export function useFileContent(
  upstreamFor: (request: Request, calls: number) => Upstream | undefined,
): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const target = fileContentTarget(url.pathname);
      if (target === null) return;
      const refuse = (status: number, code: string, message: string, headers?: Record<string, string>) =>
        endResponse(refusalResponse(fetchAPI, request, { status, code, message, headers }));
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        refuse(405, 'METHOD_NOT_ALLOWED', 'A file’s content is read with GET (or HEAD).', {
          allow: 'GET, HEAD',
        });
        return;
      }
      let fileId: string;
      try {
        fileId = parseFileId(decodeURIComponent(target), 'id');
      } catch {
        refuse(
          400,
          'INVALID_ID',
          'The path does not name a file: expected /files/{file-... or File id}/content.',
        );
        return;
      }
      const upstream = upstreamFor(request, 1);
      // The access plugin decides every request on this path before it gets here.
      if (!upstream) throw new Error('A file download reached its route without an access decision.');
      try {
        endResponse(
          request.method === 'HEAD'
            ? await headersOnly(fetchAPI, upstream, fileId)
            : await streamed(fetchAPI, upstream, fileId),
        );
      } catch (error) {
        const failure = error instanceof UpstreamError ? error : undefined;
        const { status, message } = refusalOf(failure?.code, fileId);
        const headers: Record<string, string> = {};
        if (failure?.retryAfterSeconds != null) headers['retry-after'] = String(failure.retryAfterSeconds);
        refuse(status, failure?.code ?? 'INTERNAL_SERVER_ERROR', message, headers);
      }
    },
  };
}

/**
 * Served as OpenAI serves it: opaque bytes to save, never to render (an uploaded HTML page must
 * not run as this origin), and not kept by shared caches, since it was fetched with credentials.
 */
const SAFE_DOWNLOAD_HEADERS = {
  'content-type': 'application/octet-stream',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
  'cache-control': 'private, no-store',
} as const;

async function streamed(fetchAPI: FetchAPI, upstream: Upstream, fileId: string): Promise<Response> {
  const download = await upstream.downloadFile(fileId);
  const headers: Record<string, string> = {
    ...SAFE_DOWNLOAD_HEADERS,
    'content-disposition': download.contentDisposition ?? 'attachment',
  };
  if (download.bytes !== null) headers['content-length'] = String(download.bytes);
  // Read only as fast as the client takes it; when the client goes away, yoga's server adapter
  // cancels this body, which closes the upstream connection (the suite checks it does).
  return new fetchAPI.Response(download.body, { status: 200, headers });
}

async function headersOnly(fetchAPI: FetchAPI, upstream: Upstream, fileId: string): Promise<Response> {
  const file = await upstream.retrieveFile(fileId);
  const headers: Record<string, string> = {
    ...SAFE_DOWNLOAD_HEADERS,
    'content-disposition': attachment(file.filename),
  };
  if (typeof file.bytes === 'number') headers['content-length'] = String(file.bytes);
  return new fetchAPI.Response(null, { status: 200, headers });
}

/** How an upstream failure is told on this route, which has no GraphQL errors to carry it. */
function refusalOf(code: UpstreamErrorCode | undefined, fileId: string): { status: number; message: string } {
  switch (code) {
    case 'NOT_FOUND':
      return { status: 404, message: `No file ${fileId}.` };
    case 'UPSTREAM_REJECTED':
      // OpenAI is reported to refuse the content of some purposes (`assistants`) with a 400; no
      // recording of it was found, so the refusal is passed on as such, whatever its reason.
      return { status: 422, message: `OpenAI refused to serve the content of ${fileId}.` };
    case 'RATE_LIMITED':
      return { status: 429, message: 'OpenAI rate limit reached; retry later.' };
    case 'UPSTREAM_TIMEOUT':
      return { status: 504, message: 'OpenAI did not answer in time.' };
    case 'UPSTREAM_AUTH_FAILED':
    case 'UPSTREAM_UNAVAILABLE':
      return { status: 502, message: 'OpenAI could not serve the file; try again later.' };
    case 'REQUEST_CANCELLED':
      return { status: 499, message: 'The request was cancelled.' };
    default:
      return { status: 500, message: 'The file could not be served.' };
  }
}
