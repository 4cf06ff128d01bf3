import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GraphQLResponse, TestGateway } from './gateway.ts';

/** Multipart requests are "simple" requests a browser may send cross-site; they must say they are not. */
export const PREFLIGHT = { 'apollo-require-preflight': 'true' };

export interface TestFile {
  name: string;
  content: string | Buffer;
  type?: string;
}

export const UPLOAD_FILES = `
  mutation Upload($input: UploadFilesInput!) {
    uploadFiles(input: $input) {
      __typename
      ... on UploadFilesPayload {
        vectorStore { id openaiId fileCounts { inProgress completed failed cancelled total } }
        fileBatch { id openaiId status fileCounts { total completed } }
        files { openaiId status attributes file { filename bytes } }
        failures { index filename fileId openaiFileId stage code message retryAfter }
      }
      ... on MutationError { message }
      ... on InvalidInputError { field path }
      ... on NotFoundError { field }
    }
  }
`;

export interface UploadFilesData {
  uploadFiles: {
    __typename: string;
    message?: string;
    field?: string;
    path?: string[];
    vectorStore?: {
      id: string;
      openaiId: string;
      fileCounts: { inProgress: number; completed: number; failed: number; cancelled: number; total: number };
    } | null;
    fileBatch?: {
      id: string;
      openaiId: string;
      status: string;
      fileCounts: { total: number; completed: number };
    } | null;
    files?: Array<{
      openaiId: string;
      status: string;
      attributes: Record<string, unknown> | null;
      file: { filename: string; bytes: number } | null;
    }>;
    failures?: Array<{
      index: number;
      filename: string | null;
      fileId: string | null;
      openaiFileId: string | null;
      stage: string;
      code: string;
      message: string;
      retryAfter: number | null;
    }>;
  };
}

/**
 * The layout Apollo's upload link sends (apollo-upload-client): `operations` with each file
 * replaced by null, then `map`, then the files under the map's keys, as `FormData` through fetch.
 */
export function uploadWithFormData(
  gateway: Pick<TestGateway, 'url'>,
  input: { vectorStoreId: string } & Record<string, unknown>,
  files: readonly TestFile[],
  query = UPLOAD_FILES,
): Promise<GraphQLResponse<UploadFilesData>> {
  return sendWithFormData(gateway, query, input, files);
}

/** Any mutation whose `input.files` are uploads, sent in the same layout. */
export async function sendWithFormData<TData = Record<string, unknown>>(
  gateway: Pick<TestGateway, 'url'>,
  query: string,
  input: object,
  files: readonly TestFile[],
): Promise<GraphQLResponse<TData>> {
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({ query, variables: { input: { ...input, files: files.map(() => null) } } }),
  );
  form.append(
    'map',
    JSON.stringify(
      Object.fromEntries(files.map((_, index) => [String(index), [`variables.input.files.${index}`]])),
    ),
  );
  files.forEach((file, index) => {
    const bytes = typeof file.content === 'string' ? file.content : new Uint8Array(file.content);
    form.append(String(index), new Blob([bytes], { type: file.type ?? 'text/plain' }), file.name);
  });
  const response = await fetch(gateway.url, { method: 'POST', headers: PREFLIGHT, body: form });
  return (await response.json()) as GraphQLResponse<TData>;
}

export const BOUNDARY = '----gateway-test-boundary';

/** The multipart head of an upload request, up to (not including) the first file part. */
export function multipartHead(
  variables: Record<string, unknown>,
  map: Record<string, string[]>,
  query = UPLOAD_FILES,
): string {
  return (
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query, variables })}\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n${JSON.stringify(map)}\r\n`
  );
}

export function filePartHead(field: string, filename: string, type = 'text/plain'): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`;
}

export const CLOSING = `\r\n--${BOUNDARY}--\r\n`;

/** A raw streaming multipart request (chunked), written by hand so a test can pace or cut it. */
export function openMultipart(gateway: Pick<TestGateway, 'url'>): {
  req: ClientRequest;
  response: Promise<IncomingMessage>;
} {
  const url = new URL(gateway.url);
  const req = httpRequest({
    host: url.hostname,
    port: url.port,
    method: 'POST',
    path: url.pathname,
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, ...PREFLIGHT },
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  // An aborted request rejects `response`; tests that abort do not await it.
  response.catch(() => {});
  return { req, response };
}

export async function readJson<T>(response: IncomingMessage): Promise<T> {
  let text = '';
  for await (const chunk of response) text += String(chunk);
  return JSON.parse(text) as T;
}

/** Writes `total` bytes of `fill` in `chunk`-sized writes, `delayMs` apart. */
export async function writeSlowly(
  req: ClientRequest,
  total: number,
  options: { chunk: number; delayMs: number; fill?: string },
): Promise<void> {
  const fill = options.fill ?? 'x';
  const chunk = fill.repeat(Math.ceil(options.chunk / fill.length)).slice(0, options.chunk);
  for (let sent = 0; sent < total; sent += options.chunk) {
    req.write(chunk.slice(0, Math.min(options.chunk, total - sent)));
    await sleep(options.delayMs);
  }
}

export async function waitFor(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
