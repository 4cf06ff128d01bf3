import { GraphQLError } from 'graphql';
import OpenAI from 'openai';
import { retryAfterSeconds } from './client.ts';

/** The closed set of upstream outcomes a client can act on. */
export type UpstreamErrorCode =
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_AUTH_FAILED'
  | 'UPSTREAM_REJECTED'
  | 'REQUEST_CANCELLED'
  | 'PAYLOAD_TOO_LARGE'
  | 'OVER_BUDGET';

/**
 * An upstream failure in the gateway's own words. OpenAI's text is never forwarded: its 401
 * message echoes part of the API key. The upstream request id is kept, since support needs it
 * and it is not secret.
 */
export class UpstreamError extends GraphQLError {
  readonly code: UpstreamErrorCode;
  readonly status: number | null;
  readonly retryAfterSeconds: number | null;
  readonly param: string | null;
  readonly requestId: string | null;

  constructor(
    code: UpstreamErrorCode,
    message: string,
    details: {
      status?: number | null;
      retryAfterSeconds?: number | null;
      param?: string | null;
      requestId?: string | null;
    } = {},
  ) {
    const extensions: Record<string, unknown> = { code };
    if (details.status != null) extensions.upstreamStatus = details.status;
    if (details.retryAfterSeconds != null) extensions.retryAfter = details.retryAfterSeconds;
    if (details.param != null) extensions.param = details.param;
    if (details.requestId != null) extensions.upstreamRequestId = details.requestId;
    super(message, { extensions });
    this.name = 'UpstreamError';
    this.code = code;
    this.status = details.status ?? null;
    this.retryAfterSeconds = details.retryAfterSeconds ?? null;
    this.param = details.param ?? null;
    this.requestId = details.requestId ?? null;
  }
}

/**
 * A file whose bytes did not add up to the size declared for it, found by the gateway as they
 * passed: the upload was cut or cancelled, so nothing of it is left upstream.
 */
export class UploadSizeMismatch extends Error {
  readonly code = 'UPLOAD_SIZE_MISMATCH';

  constructor(
    readonly declared: number,
    /** The bytes received; for a file longer than declared, the count when that was noticed. */
    readonly received: number,
  ) {
    super(
      received > declared
        ? `it is larger than the ${declared} bytes declared for it.`
        : `it has ${received} bytes, not the ${declared} declared for it.`,
    );
    this.name = 'UploadSizeMismatch';
  }
}

/** The `param` OpenAI names in a 400, which is an input path and so safe to pass on. */
function upstreamParam(error: InstanceType<typeof OpenAI.APIError>): string | null {
  return typeof error.param === 'string' ? error.param : null;
}

/**
 * The one mapping from whatever the SDK (or the streaming upload) throws to an UpstreamError.
 * `timedOut` (the call's own deadline passed) tells a timeout from a cancelled request, since the
 * SDK reports both as aborts; `request` (the operation's signal) tells its deadline from a client
 * that went away.
 */
export function toUpstreamError(error: unknown, timedOut = false, request?: AbortSignal): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (error instanceof OpenAI.APIConnectionTimeoutError || (timedOut && isAbort(error))) {
    return new UpstreamError('UPSTREAM_TIMEOUT', 'OpenAI did not answer in time.');
  }
  if (isAbort(error)) {
    // The client that went away never reads this; the one whose operation ran out of time does,
    // and should not be told it cancelled anything.
    return new UpstreamError(
      'REQUEST_CANCELLED',
      isTimeout(request?.reason)
        ? "The operation's deadline passed before OpenAI answered."
        : 'The request was cancelled before OpenAI answered.',
    );
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new UpstreamError('UPSTREAM_UNAVAILABLE', 'OpenAI could not be reached.');
  }
  if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
    const details = { status: error.status, requestId: error.requestID ?? null };
    const status = error.status;
    if (status === 404) {
      return new UpstreamError('NOT_FOUND', 'OpenAI has no such object.', {
        ...details,
        param: upstreamParam(error),
      });
    }
    if (status === 429) {
      const retryAfter = retryAfterSeconds(error.headers);
      const wait = retryAfter === null ? '' : ` Retry after ${Math.ceil(retryAfter)} s.`;
      return new UpstreamError('RATE_LIMITED', `OpenAI rate limit reached.${wait}`, {
        ...details,
        retryAfterSeconds: retryAfter === null ? null : Math.ceil(retryAfter),
      });
    }
    if (status === 413) {
      return new UpstreamError('PAYLOAD_TOO_LARGE', 'OpenAI refused the request as too large.', details);
    }
    if (status === 401 || status === 403) {
      return new UpstreamError(
        'UPSTREAM_AUTH_FAILED',
        'OpenAI refused the credential for this request.',
        details,
      );
    }
    if (status >= 500 || status === 408 || status === 409) {
      return new UpstreamError('UPSTREAM_UNAVAILABLE', `OpenAI failed to answer (HTTP ${status}).`, details);
    }
    const param = upstreamParam(error);
    const where = param ? ` (parameter '${param}')` : '';
    return new UpstreamError('UPSTREAM_REJECTED', `OpenAI rejected the request${where}.`, {
      ...details,
      param,
    });
  }
  return new UpstreamError('UPSTREAM_UNAVAILABLE', 'The call to OpenAI failed unexpectedly.');
}

function isAbort(error: unknown): boolean {
  return (
    error instanceof OpenAI.APIUserAbortError ||
    (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError'))
  );
}

/** The reason an `AbortSignal.timeout()` (or a signal combining one) aborts with. */
function isTimeout(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'TimeoutError';
}
