import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { processRequest } from 'graphql-upload-minimal';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type OpenAI from 'openai';
import type { Context } from './context.ts';
import { schema } from './schema/index.ts';
import { createLoaders } from './schema/loaders.ts';
import {
  createOpenAIClient,
  defaultUpstreamPolicy,
  Upstream,
  type UpstreamCall,
  type UpstreamCredential,
  type UpstreamPolicy,
} from './upstream/index.ts';

export interface AppOptions {
  credential: UpstreamCredential;
  policy?: Partial<UpstreamPolicy>;
  /** The query GraphiQL opens with. */
  defaultQuery?: string;
  onUpstreamCall?: (call: UpstreamCall & { requestId: string }) => void;
  /** Off only to measure what batching saves. */
  batching?: boolean;
  uploads?: Partial<UploadLimits>;
}

export interface UploadLimits {
  /** OpenAI's own limit is 512 MB per file. */
  maxFileBytes: number;
  maxFiles: number;
  /** The `operations` and `map` fields of a multipart request. */
  maxFieldBytes: number;
}

export const defaultUploadLimits: UploadLimits = {
  maxFileBytes: 512 * 1024 * 1024,
  maxFiles: 20,
  maxFieldBytes: 1024 * 1024,
};

/** JSON bodies; uploads are multipart and streamed, so this does not bound them. */
const MAX_JSON_BODY_BYTES = 2 * 1024 * 1024;

export interface App {
  yoga: YogaServerInstance<{ req: IncomingMessage; res: ServerResponse }, Context>;
  uploadLimits: UploadLimits;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the HTTP handler from its dependencies; the process entry (server.ts) only listens. */
export function createApp(options: AppOptions): App {
  const policy = { ...defaultUpstreamPolicy, ...options.policy };
  const uploadLimits = { ...defaultUploadLimits, ...options.uploads };
  // One client per credential for the life of the process: it owns the connection pool.
  const client: OpenAI = createOpenAIClient(options.credential, policy);

  const yoga = createYoga<{ req: IncomingMessage; res: ServerResponse }, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Yoga's own multipart parser buffers whole files in memory; uploads are streamed instead.
    multipart: false,
    maxRequestBodySize: MAX_JSON_BODY_BYTES,
    graphiql: { title: 'vector-store-gateway', defaultQuery: options.defaultQuery },
    // GraphiQL from the package rather than a CDN, so it works offline.
    renderGraphiQL,
    maskedErrors: { isDev: false },
    context: ({ request }): Context => {
      const given = request.headers.get('x-request-id');
      const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
      const onCall = options.onUpstreamCall;
      const upstream = new Upstream(
        client,
        policy,
        request.signal,
        onCall ? (call) => onCall({ ...call, requestId }) : undefined,
      );
      return {
        requestId,
        upstream,
        loaders: createLoaders(upstream, { batching: options.batching ?? true }),
        uploadLimits,
      };
    },
  });

  async function handleMultipart(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const operations = await processRequest(req, res, {
        // One byte over the limit is enough to know a file is too large; the resolver checks.
        maxFileSize: uploadLimits.maxFileBytes + 1,
        maxFiles: uploadLimits.maxFiles,
        maxFieldSize: uploadLimits.maxFieldBytes,
      });
      // The body is consumed: yoga reads the parsed operations, and must not hold the streamed
      // files' Content-Length against its JSON body limit.
      Object.assign(req, { body: operations });
      delete req.headers['content-length'];
    } catch (error) {
      const status =
        typeof (error as { status?: unknown }).status === 'number'
          ? (error as { status: number }).status
          : 400;
      const message = error instanceof Error ? error.message : 'Invalid multipart request.';
      const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
      if (!res.headersSent) {
        res
          .writeHead(status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
      }
      return;
    }
    await yoga.requestListener(req, res);
  }

  return {
    yoga,
    uploadLimits,
    handle(req, res) {
      if (req.url === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      if (req.method === 'POST' && /^multipart\/form-data/i.test(req.headers['content-type'] ?? '')) {
        void handleMultipart(req, res);
        return;
      }
      void yoga.requestListener(req, res);
    },
  };
}
