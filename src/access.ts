import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The header a request names its credential with, as Flowise's `credential` parameter does. */
export const CREDENTIAL_HEADER = 'x-openai-credential';
/** The header that carries a caller's own OpenAI key, honoured only when the gateway allows it. */
export const CALLER_KEY_HEADER = 'x-openai-api-key';

/**
 * Any of these shows the request was preflighted, or sent by a client that cannot be a plain
 * cross-site form: yoga's, Apollo's, and the GraphQL-over-HTTP style.
 */
export const PREFLIGHT_HEADERS = [
  'x-graphql-yoga-csrf',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'graphql-preflight',
] as const;

/** Content types a browser sends cross-site without a CORS preflight. */
const SIMPLE_CONTENT_TYPES = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
  '',
]);

/**
 * A request a browser could send from another site without a preflight: a GET that runs an
 * operation, or a POST with a "simple" content type (multipart uploads included). It must carry a
 * preflight header. Checked before the body is read, since the upload middleware hands yoga a
 * pre-parsed body that yoga's own CSRF check would take for JSON.
 */
export function isUnpreflightedCrossSiteRequest(
  method: string | undefined,
  url: string | undefined,
  headers: IncomingHttpHeaders,
): boolean {
  if (PREFLIGHT_HEADERS.some((name) => headers[name])) return false;
  if (method === 'GET' || method === 'HEAD')
    return new URL(url ?? '/', 'http://gateway').searchParams.has('query');
  const mediaType = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return SIMPLE_CONTENT_TYPES.has(mediaType);
}

export interface GatewayToken {
  name: string;
  secret: string;
  credentials: readonly string[];
}

export interface AccessPolicy {
  credentialNames: readonly string[];
  defaultCredential: string;
  /** Empty: no gateway token is required, and every credential is open to every caller. */
  tokens: readonly GatewayToken[];
  allowCallerKeys: boolean;
}

export type Access =
  | { granted: true; credential: string; available: readonly string[]; callerKey?: undefined }
  | { granted: true; credential: null; available: readonly string[]; callerKey: string }
  | { granted: false; status: 401 | 403 | 400; code: string; message: string };

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Who may use which credential. Tokens are compared as digests in constant time. An unknown
 * credential and one outside the token's set get the same answer, so names cannot be probed.
 */
export function createAccessControl(policy: AccessPolicy): (headers: IncomingHttpHeaders) => Access {
  const tokens = policy.tokens.map((token) => ({ ...token, digest: digest(token.secret) }));
  return (headers) => {
    let available: readonly string[] = policy.credentialNames;
    let fallback = policy.defaultCredential;
    if (tokens.length > 0) {
      const presented = /^Bearer\s+(\S+)\s*$/i.exec(single(headers.authorization) ?? '')?.[1];
      const presentedDigest = presented ? digest(presented) : undefined;
      const token =
        presentedDigest && tokens.find((candidate) => timingSafeEqual(candidate.digest, presentedDigest));
      if (!token) {
        return {
          granted: false,
          status: 401,
          code: 'UNAUTHENTICATED',
          message: 'A valid gateway token is required: send `Authorization: Bearer <token>`.',
        };
      }
      available = token.credentials;
      fallback = available.includes(policy.defaultCredential) ? policy.defaultCredential : available[0]!;
    }

    const callerKey = single(headers[CALLER_KEY_HEADER]);
    if (callerKey) {
      if (!policy.allowCallerKeys) {
        return {
          granted: false,
          status: 403,
          code: 'CALLER_KEYS_DISABLED',
          message: `This gateway does not accept callers' own OpenAI keys (${CALLER_KEY_HEADER}).`,
        };
      }
      return { granted: true, credential: null, available, callerKey };
    }

    const asked = single(headers[CREDENTIAL_HEADER]);
    if (asked === undefined) return { granted: true, credential: fallback, available };
    if (available.includes(asked)) return { granted: true, credential: asked, available };
    return {
      granted: false,
      status: 403,
      code: 'CREDENTIAL_NOT_ALLOWED',
      // The asked name is not echoed: a caller who pasted a key into the header must not see it
      // again in a response, a proxy log or a screenshot.
      message:
        tokens.length > 0
          ? `The credential named in ${CREDENTIAL_HEADER} does not exist or this token may not use it.`
          : `The credential named in ${CREDENTIAL_HEADER} does not exist. Known credentials: ${available.join(', ')}.`,
    };
  };
}
