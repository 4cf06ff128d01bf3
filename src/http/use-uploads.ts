import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type MultipartBody, parseUploadRequest, type UploadLimits } from '../uploads/parse.ts';
import { isMultipart } from './use-body-limit.ts';

/** The Node request and response behind a request, when it came through a Node HTTP server. */
export interface NodeServerContext {
  req?: IncomingMessage;
  res?: ServerResponse;
}

/**
 * The streamed multipart path (GraphQL multipart request spec): the `operations` and `map`
 * fields are parsed here, and each file stays a stream in its `Upload` value until its resolver
 * reads it. yoga's own multipart parser, which buffers whole files, is off (`multipart: false`).
 * Under a Node server the request is read straight from the socket; elsewhere (in-process
 * `fetch`) from the Request's body.
 */
export function useUploads(limits: UploadLimits): Plugin<Record<string, unknown>, NodeServerContext> {
  return {
    onRequestParse({ request, serverContext, setRequestParser }) {
      if (request.method !== 'POST' || !isMultipart(request)) return;
      setRequestParser(async () => {
        const body = serverContext?.req ?? bodyOf(request);
        try {
          return (await parseUploadRequest(body, serverContext?.res, limits)) as never;
        } catch (error) {
          const status = (error as { status?: unknown }).status;
          const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
          const message = error instanceof Error ? error.message : 'Invalid multipart request.';
          throw new GraphQLError(message, {
            extensions: { code, http: { status: typeof status === 'number' && status < 500 ? status : 400 } },
          });
        }
      });
    },
  };
}

function bodyOf(request: Request): MultipartBody {
  const stream = request.body
    ? Readable.fromWeb(request.body as unknown as NodeReadableStream<Uint8Array>)
    : Readable.from([]);
  return Object.assign(stream, { headers: Object.fromEntries(request.headers) });
}
