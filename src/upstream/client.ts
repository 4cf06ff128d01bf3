import OpenAI from 'openai';
import pLimit from 'p-limit';

/** Where and as whom the gateway talks to an OpenAI-compatible upstream. */
export interface UpstreamCredential {
  apiKey: string;
  baseURL?: string | undefined;
  organization?: string | undefined;
  project?: string | undefined;
}

export interface UpstreamPolicy {
  /** Retries for idempotent reads; writes are never retried (the SDK sends no idempotency key). */
  readRetries: number;
  /** Deadline for one upstream call, retries included; the SDK's own timeout stops at the headers. */
  callTimeoutMs: number;
  /** Longest Retry-After the gateway waits for before it gives up and reports RATE_LIMITED instead. */
  maxRetryAfterSeconds: number;
  /** Upstream requests in flight at once per credential, across all requests; more wait their turn. */
  concurrency: number;
}

export const defaultUpstreamPolicy: UpstreamPolicy = {
  readRetries: 2,
  callTimeoutMs: 30_000,
  maxRetryAfterSeconds: 10,
  concurrency: 32,
};

/**
 * openai 6.26-6.49 sleeps for whatever Retry-After says (an hour, twice). The SDK obeys
 * `x-should-retry`, so a response asking for a longer wait than we accept is marked as not
 * retryable and surfaces at once as a RateLimitError that still carries the original header.
 */
export function capRetryAfter(fetchImpl: typeof fetch, maxSeconds: number): typeof fetch {
  return async (input, init) => {
    const response = await fetchImpl(input, init);
    const waitSeconds = retryAfterSeconds(response.headers);
    if (waitSeconds === null || waitSeconds <= maxSeconds) return response;
    const headers = new Headers(response.headers);
    headers.set('x-should-retry', 'false');
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}

/** Reads `retry-after-ms` or `retry-after` (seconds or an HTTP date), as the SDK does. */
export function retryAfterSeconds(headers: Headers | undefined): number | null {
  if (!headers) return null;
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms)) return ms / 1000;
  const raw = headers.get('retry-after');
  if (raw === null) return null;
  const seconds = Number.parseFloat(raw);
  if (Number.isFinite(seconds)) return seconds;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

/**
 * Bounds the requests in flight through one client, so one query's fan-out or a burst of
 * clients cannot flood a rate-limited upstream. Each retry attempt waits its turn again.
 */
export function limitConcurrency(fetchImpl: typeof fetch, concurrency: number): typeof fetch {
  const limit = pLimit(concurrency);
  return (input, init) => limit(() => fetchImpl(input, init));
}

export function createOpenAIClient(credential: UpstreamCredential, policy: UpstreamPolicy): OpenAI {
  return new OpenAI({
    apiKey: credential.apiKey,
    baseURL: credential.baseURL ?? null,
    organization: credential.organization ?? null,
    project: credential.project ?? null,
    maxRetries: policy.readRetries,
    timeout: policy.callTimeoutMs,
    fetch: limitConcurrency(capRetryAfter(globalThis.fetch, policy.maxRetryAfterSeconds), policy.concurrency),
    // The SDK's debug logging prints request bodies; the gateway logs upstream calls itself.
    logLevel: 'off',
  });
}
