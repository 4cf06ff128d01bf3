import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, gzip, constants as zlib } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';
import { graphiqlAssetPath, graphiqlAssetTarget, ROUTES } from './routes.ts';

export interface GraphiQLOptions {
  /** The query GraphiQL opens with. */
  defaultQuery?: string | undefined;
}

/**
 * GraphiQL for a browser that opens the endpoint (a GET asking for HTML), from the package rather
 * than a CDN, so it works offline; the operations it sends carry the token like any other. Served
 * here rather than by yoga's built-in, which matches any path that ends with the endpoint's.
 *
 * @graphql-yoga/render-graphiql 5.24 renders one 9 MB page with every script and style inline
 * (the editor's workers twice over, as strings). Sent as is, each visit costs 9 MB. So the page
 * is taken apart once: its large inline scripts and styles become assets named by their hash,
 * cached by the browser for good, and the page itself (a few KB) is revalidated by its ETag. All
 * of it is compressed (brotli, else gzip) once, on first demand, off the event loop.
 */
export function useGraphiQL(options: GraphiQLOptions): Plugin {
  // The renderer and the page it makes hold about 75 MB (a 9 MB module source, the page, its
  // parts): loaded on the first visit, not at start, so a gateway nobody browses stays small.
  let rendered: Promise<RenderedPage> | undefined;
  const render = async (): Promise<RenderedPage> => {
    const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
    const { page, assets } = splitPage(
      renderGraphiQL({
        title: 'vector-store-gateway',
        defaultQuery: options.defaultQuery,
        // GraphiQL sends subscriptions as GETs unless told otherwise, which the CSRF check refuses.
        method: 'POST',
      }),
    );
    return { page: staticFile(page, 'text/html; charset=utf-8', 'no-cache'), assets };
  };
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      let pick: (files: RenderedPage) => StaticFile | undefined;
      if (url.pathname === ROUTES.graphql) {
        if (!request.headers.get('accept')?.includes('text/html')) return;
        pick = (files) => files.page;
      } else {
        const name = graphiqlAssetTarget(url.pathname);
        if (name === null) return;
        pick = (files) => files.assets.get(name);
      }
      rendered ??= render();
      return rendered.then(async (files) => {
        const file = pick(files);
        endResponse(
          file ? await serve(file, request, fetchAPI) : new fetchAPI.Response('Not found', { status: 404 }),
        );
      });
    },
  };
}

interface RenderedPage {
  page: StaticFile;
  assets: Map<string, StaticFile>;
}

/** Inline blocks smaller than this stay in the page: an extra request would cost more. */
const MIN_ASSET_BYTES = 4096;

/** Assets are named by their content: a new GraphiQL gets new names, so they may be kept for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Brotli's quality 5: 9 MB in about half a second, within a few percent of quality 9, which
 * takes three times as long; 11 would take half a minute.
 */
const BROTLI_QUALITY = 5;

const INLINE_BLOCK = /<(script|style)([^>]*)>([\s\S]*?)<\/\1>/g;

function splitPage(html: string): { page: string; assets: Map<string, StaticFile> } {
  const assets = new Map<string, StaticFile>();
  const page = html.replace(INLINE_BLOCK, (block, tag: string, attributes: string, content: string) => {
    if (Buffer.byteLength(content) < MIN_ASSET_BYTES || /\bsrc=/.test(attributes)) return block;
    const extension = tag === 'script' ? 'js' : 'css';
    const name = `${createHash('sha256').update(content).digest('hex').slice(0, 16)}.${extension}`;
    const type = tag === 'script' ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8';
    assets.set(name, staticFile(content, type, IMMUTABLE));
    const path = graphiqlAssetPath(name);
    return tag === 'script'
      ? `<script${attributes} src="${path}"></script>`
      : `<link rel="stylesheet" href="${path}"${attributes} />`;
  });
  return { page, assets };
}

type Encoding = 'br' | 'gzip' | 'identity';

interface StaticFile {
  body: Buffer;
  type: string;
  cacheControl: string;
  etag: string;
  /** The body in each encoding, made on first demand. */
  encoded: Map<Encoding, Promise<Buffer>>;
}

function staticFile(text: string, type: string, cacheControl: string): StaticFile {
  const body = Buffer.from(text);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { body, type, cacheControl, etag, encoded: new Map([['identity', Promise.resolve(body)]]) };
}

const compressors: Record<Exclude<Encoding, 'identity'>, (body: Buffer) => Promise<Buffer>> = {
  br: (body) =>
    promisify(brotliCompress)(body, {
      params: {
        [zlib.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [zlib.BROTLI_PARAM_SIZE_HINT]: body.byteLength,
      },
    }),
  gzip: (body) => promisify(gzip)(body, { level: 9 }),
};

/** The best encoding the client takes: brotli, then gzip (q=0 refuses one). */
function negotiate(acceptEncoding: string | null): Encoding {
  const accepted = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').toLowerCase().split(',')) {
    const [name = '', ...parameters] = part.trim().split(';');
    const q = parameters.map((parameter) => /^\s*q=([\d.]+)\s*$/.exec(parameter)?.[1]).find(Boolean);
    accepted.set(name.trim(), q === undefined ? 1 : Number(q));
  }
  const takes = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (takes('br')) return 'br';
  if (takes('gzip')) return 'gzip';
  return 'identity';
}

async function serve(file: StaticFile, request: Request, fetchAPI: { Response: typeof Response }) {
  const headers: Record<string, string> = {
    'content-type': file.type,
    'cache-control': file.cacheControl,
    etag: file.etag,
    vary: 'Accept-Encoding',
  };
  const match = request.headers.get('if-none-match');
  if (match?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
    return new fetchAPI.Response(null, { status: 304, headers });
  }
  const encoding = negotiate(request.headers.get('accept-encoding'));
  let encoded = file.encoded.get(encoding);
  if (!encoded) {
    encoded = compressors[encoding as Exclude<Encoding, 'identity'>](file.body);
    file.encoded.set(encoding, encoded);
  }
  const body = await encoded;
  if (encoding !== 'identity') headers['content-encoding'] = encoding;
  headers['content-length'] = String(body.byteLength);
  return new fetchAPI.Response(
    request.method === 'HEAD'
      ? null
      : new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength),
    {
      headers,
    },
  );
}
