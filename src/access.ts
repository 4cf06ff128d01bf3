/**
 * Who may use which credential: decided from a request's credentials wherever they come from
 * (HTTP headers, or a WebSocket's connection parameters), so every transport decides alike.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** The header a request names its credential with, as Flowise's `credential` parameter does. */
export const CREDENTIAL_HEADER = 'x-openai-credential';
/** The header that carries a caller's own OpenAI key, honoured only when the gateway allows it. */
export const CALLER_KEY_HEADER = 'x-openai-api-key';

export interface GatewayToken {
  name: string;
  secret: string;
  credentials: readonly string[];
}

export interface AccessPolicy {
  credentialNames: readonly string[];
  defaultCredential: string;
  /** None: no gateway token is required, and every credential is open to every caller. */
  tokens?: readonly GatewayToken[] | undefined;
  /** Whether a caller may send its own OpenAI key; off unless set. */
  allowCallerKeys?: boolean | undefined;
}

/** The gateway token a caller presented, by name; none when no tokens are configured. */
type TokenName = { token?: string | undefined };

export type Access =
  | ({ granted: true; credential: string; available: readonly string[]; callerKey?: undefined } & TokenName)
  | ({ granted: true; credential: null; available: readonly string[]; callerKey: string } & TokenName)
  | { granted: false; status: 401 | 403 | 400; code: string; message: string };

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** The bearer token of an `Authorization` header, if it has one. */
export function bearerToken(header: string | null | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/** Whether a presented secret is this one, compared as digests in constant time. */
export function secretMatcher(secret: string): (presented: string | undefined) => boolean {
  const expected = digest(secret);
  return (presented) => presented !== undefined && timingSafeEqual(expected, digest(presented));
}

/** Reads one header (lower-case name) of whatever carries the request's credentials. */
export type HeaderReader = (name: string) => string | null | undefined;

export type AccessControl = (header: HeaderReader) => Access;

/**
 * Who may use which credential. Tokens are compared as digests in constant time. An unknown
 * credential and one outside the token's set get the same answer, so names cannot be probed.
 */
export function createAccessControl(policy: AccessPolicy): AccessControl {
  const tokens = (policy.tokens ?? []).map((token) => ({ ...token, digest: digest(token.secret) }));
  return (header) => {
    let available: readonly string[] = policy.credentialNames;
    let fallback = policy.defaultCredential;
    let tokenName: string | undefined;
    if (tokens.length > 0) {
      const presented = bearerToken(header('authorization'));
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
      tokenName = token.name;
      // A token's first credential is its default, as the README says: who configures a token
      // orders its credentials, and the gateway-wide default may not be the one it means.
      fallback = available[0]!;
    }

    const callerKey = header(CALLER_KEY_HEADER) ?? undefined;
    if (callerKey) {
      if (!policy.allowCallerKeys) {
        return {
          granted: false,
          status: 403,
          code: 'CALLER_KEYS_DISABLED',
          message: `This gateway does not accept callers' own OpenAI keys (${CALLER_KEY_HEADER}).`,
        };
      }
      return { granted: true, credential: null, available, callerKey, token: tokenName };
    }

    const asked = header(CREDENTIAL_HEADER) ?? undefined;
    if (asked === undefined) return { granted: true, credential: fallback, available, token: tokenName };
    if (available.includes(asked)) return { granted: true, credential: asked, available, token: tokenName };
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
