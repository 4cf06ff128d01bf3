import type { CORSOptions, Plugin } from 'graphql-yoga';
import { CALLER_KEY_HEADER, CREDENTIAL_HEADER } from '../access.ts';
import type { HostPolicy, OriginPolicy } from './origins.ts';
import { refusalResponse } from './refusal.ts';
import { isApiPath, ROUTES } from './routes.ts';
import { PREFLIGHT_HEADERS } from './use-access.ts';

/**
 * What a browser may do with the gateway: CORS for the listed origins only, and, when no token
 * guards it, only the host names it is meant to be reached by.
 *
 * CORS is yoga's own (whatwg-node's), given a factory that answers per request: the allowed
 * origin echoed back with credentials, on `/graphql` and a File's content only. Any other origin,
 * and every other path (`/metrics`, health), gets no CORS header at all, so a page elsewhere can
 * neither read an answer nor learn it was refused for its origin. A preflight (`OPTIONS`) is
 * answered by yoga before any other plugin, so it never meets the CSRF check.
 */

/** Headers a cross-origin page may send: its token, its credential, a JSON body, the preflight markers. */
const ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  CREDENTIAL_HEADER,
  CALLER_KEY_HEADER,
  ...PREFLIGHT_HEADERS,
  // Apollo Client's and GraphiQL's own.
  'apollographql-client-name',
  'apollographql-client-version',
];

/** Answer headers a page may read: the request id to report, a retry hint, a download's name. */
const EXPOSED_HEADERS = ['x-request-id', 'retry-after', 'content-disposition', 'content-length'];

/** How long a browser may reuse a preflight's answer (seconds); Chromium caps it at 7200. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function corsOptions(origins: OriginPolicy): (request: Request) => CORSOptions {
  return (request) => {
    const origin = request.headers.get('origin');
    if (!origins.allows(origin) || !isApiPath(new URL(request.url).pathname)) return false;
    return {
      origin: [origin!],
      credentials: true,
      methods: ['GET', 'HEAD', 'POST'],
      allowedHeaders: ALLOWED_HEADERS,
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    };
  };
}

/**
 * The answers of `/graphql` differ by `Origin` (CORS headers or none), so a shared cache must
 * keep them apart even when this one carries none.
 */
export function useVaryOrigin(): Plugin {
  return {
    onResponse({ request, response }) {
      if (!isApiPath(new URL(request.url).pathname)) return;
      const vary = response.headers.get('vary') ?? '';
      if (!/(^|,)\s*origin\s*(,|$)/i.test(vary))
        response.headers.set('vary', vary ? `${vary}, Origin` : 'Origin');
    },
  };
}

/**
 * DNS rebinding: without tokens, a page on `attacker.example` whose name is made to resolve to
 * 127.0.0.1 reaches the gateway as same-origin, but still sends `Host: attacker.example`. Such a
 * request is refused before anything else. Health and readiness stay open to any host: they
 * carry no data, and probes address the gateway by IP.
 */
export function useHostCheck(hosts: HostPolicy): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname === ROUTES.health || url.pathname === ROUTES.ready) return;
      // The URL's host is the `Host` header's (the Node adapter builds the URL from it), and
      // still there for a request handed to yoga in-process, which has no such header.
      if (hosts.allows(url.host)) return;
      endResponse(
        refusalResponse(fetchAPI, request, {
          status: 403,
          code: 'HOST_NOT_ALLOWED',
          message:
            'This gateway has no tokens, so it answers only loopback host names and those in ALLOWED_HOSTS.',
        }),
      );
    },
  };
}
