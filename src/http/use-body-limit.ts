import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

function tooLarge(limit: number): GraphQLError {
  return new GraphQLError(`The request body is larger than ${limit} bytes.`, {
    extensions: { code: 'PAYLOAD_TOO_LARGE', http: { status: 413 } },
  });
}

/**
 * The size limit of non-multipart bodies (uploads are streamed and limited per file). A body
 * that declares its length is refused or passed on that alone: Node's HTTP parser never delivers
 * more than Content-Length says, so counting its bytes again would only cost time. Only a body of
 * unknown length (chunked) is counted as it is read.
 */
/** JSON bodies; uploads are multipart and streamed, so this does not bound them. */
export const DEFAULT_JSON_BODY_BYTES = 2 * 1024 * 1024;

export function useBodyLimit(limit = DEFAULT_JSON_BODY_BYTES): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (!requestParser || request.body === null || isMultipart(request)) return;
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        // Only one non-negative integer is a length; anything else (`1,2`, as in request
        // smuggling) is refused rather than allowed to skip the check.
        if (!/^\d+$/.test(declared)) {
          throw new GraphQLError('The Content-Length header is invalid.', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
        if (Number(declared) > limit) throw tooLarge(limit);
        return;
      }
      setRequestParser((incoming) => requestParser(withCountedBody(incoming, limit, fetchAPI)));
    },
  };
}

export function isMultipart(request: Request): boolean {
  return /^multipart\/form-data/i.test(request.headers.get('content-type') ?? '');
}

/**
 * The body through a byte counter. A native stream needs the native TransformStream, a ponyfill
 * stream (what whatwg-node makes of a Node request) the ponyfill's: mixing them fails, as yoga
 * 5.24's own body limit notes (graphql-hive/graphql-yoga#4583).
 */
function withCountedBody(
  request: Request,
  limit: number,
  fetchAPI: { Request: typeof Request; TransformStream: typeof TransformStream },
): Request {
  const Transform = request.body instanceof ReadableStream ? TransformStream : fetchAPI.TransformStream;
  let read = 0;
  const counted = request.body!.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        read += chunk.byteLength;
        if (read > limit) controller.error(tooLarge(limit));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body: counted,
    duplex: 'half',
  } as RequestInit);
}
