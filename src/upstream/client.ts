import OpenAI from 'openai';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ConcurrencyLimit } from '../concurrency.ts';
import type { LeftoverLog } from './leftovers.ts';
import { OPENAI_LIMITS } from './openai-limits.ts';
import { localPacing, localStoreWrites, type PacingSource } from './pacing.ts';
import { noReadCache, type ReadCache } from './read-cache.ts';
import { upstreamFetch } from './transport.ts';

/** Where and as whom the gateway talks to an OpenAI-compatible upstream. */
export interface UpstreamCredential {
  apiKey: string;
  baseURL?: string | undefined;
  organization?: string | undefined;
  project?: string | undefined;
  /** The HTTP transport of the SDK's calls; transport.ts's unless given (tests run in-process). */
  fetch?: typeof fetch | undefined;
}

export interface UpstreamPolicy {
  /** Retries for idempotent reads; writes are never retried (the SDK sends no idempotency key). */
  readRetries: number;
  /** Deadline for one upstream call, retries included; the SDK's own timeout stops at the headers. */
  callTimeoutMs: number;
  /**
   * Longest Retry-After the gateway waits for before it gives up and reports RATE_LIMITED instead
   * (and never longer than `callTimeoutMs`, which would end the wait first).
   */
  maxRetryAfterSeconds: number;
  /**
   * Attach writes a minute per vector store, across credentials (and replicas, with REDIS_URL):
   * OpenAI's own limit unless lowered, for a store other writers share.
   */
  storeWritesPerMinute: number;
  /**
   * Upstream requests in flight at once per credential, across all requests; more wait their turn.
   * A flood guard, not a rate limit: at 50 ms a call, 128 slots carry 2,560 calls/s, well past what
   * 64 busy clients need (32 capped them at 640/s), yet a burst of clients against an upstream that
   * answers 429 still meets a bounded number of calls.
   */
  concurrency: number;
}

export const defaultUpstreamPolicy: UpstreamPolicy = {
  readRetries: 2,
  callTimeoutMs: 30_000,
  maxRetryAfterSeconds: 10,
  storeWritesPerMinute: OPENAI_LIMITS.storeWritesPerMinute,
  concurrency: 128,
};

/**
 * One credential's way to OpenAI, created once per credential for the life of the process: the
 * SDK client (and its connection pool), and the concurrency limit every call of the credential
 * shares, streamed uploads included.
 */
export interface UpstreamClient {
  readonly sdk: OpenAI;
  readonly credential: UpstreamCredential;
  readonly limit: ConcurrencyLimit;
  /**
   * A write sent outside the SDK (a streamed upload, file-upload.ts), budgeted as the SDK's calls
   * are: it waits out the credential's cool-down (at most `maxWaitMs`), takes a slot, starts a
   * cool-down when answered 429, and drops the credential's cached reads.
   */
  sendOutsideSdk<T>(send: () => Promise<T>, maxWaitMs: number): Promise<T>;
  /** Each vector store's attach writes of the minute (OPENAI_LIMITS.storeWritesPerMinute). */
  readonly storeWrites: RateLimiterAbstract;
  /** Where its calls' leftovers are written down for other replicas; none for a caller's own key. */
  readonly leftovers?: LeftoverLog | undefined;
}

export function createUpstreamClient(
  credential: UpstreamCredential,
  policy: UpstreamPolicy,
  pacingSource: PacingSource = localPacing,
  readCache: ReadCache = noReadCache,
  leftovers?: LeftoverLog,
  storeWrites = pacingSource.storeWrites ?? localStoreWrites(policy.storeWritesPerMinute),
): UpstreamClient {
  const pacing = pacingSource.forCredential(credential, policy.concurrency);
  const { limit } = pacing;
  // A wait the call's own deadline would cut short is not waited either: RATE_LIMITED says when.
  const longestWait = Math.min(policy.maxRetryAfterSeconds, policy.callTimeoutMs / 1000);
  const transport = capRetryAfter(credential.fetch ?? upstreamFetch, longestWait);
  const sdk = new OpenAI({
    apiKey: credential.apiKey,
    baseURL: credential.baseURL ?? null,
    organization: credential.organization ?? null,
    project: credential.project ?? null,
    maxRetries: policy.readRetries,
    timeout: policy.callTimeoutMs,
    // Each attempt, retries included, waits out the credential's cool-down, then for its own slot;
    // a 429 it meets starts a cool-down for all of the credential's calls.
    // A read the cache answers waits for nothing.
    fetch: readCache.wrap(async (input, init) => {
      await pacing.ready(init?.signal);
      const response = await limit.run(() => transport(input, init));
      if (response.status === 429) pacing.coolDown(retryAfterSeconds(response.headers) ?? 0);
      return response;
    }, credential),
    // The SDK's debug logging prints request bodies; the gateway logs upstream calls itself.
    logLevel: 'off',
  });
  const sendOutsideSdk = async <T>(send: () => Promise<T>, maxWaitMs: number): Promise<T> => {
    await readCache.forget(credential);
    try {
      await pacing.ready(AbortSignal.timeout(maxWaitMs));
    } catch {
      // As the SDK's own calls meet it: a rate limit, not a cancelled request.
      throw new OpenAI.RateLimitError(
        429,
        undefined,
        'The credential is still cooling down after a 429.',
        new Headers(),
      );
    }
    try {
      return await limit.run(send);
    } catch (error) {
      if (error instanceof OpenAI.APIError && error.status === 429) {
        pacing.coolDown(retryAfterSeconds(error.headers) ?? 0);
      }
      throw error;
    } finally {
      await readCache.forget(credential);
    }
  };
  return { sdk, credential, limit, sendOutsideSdk, storeWrites, leftovers };
}

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

/** The clients of a process: one per named credential, made once; one per request for a caller's own key. */
export interface UpstreamClients {
  readonly names: readonly string[];
  /** The credential a request without one uses. */
  readonly defaultName: string;
  named(name: string): UpstreamClient;
  /** A caller's own key, sent to the default credential's upstream. */
  forCallerKey(apiKey: string): UpstreamClient;
}

export function createUpstreamClients(
  credentials: ReadonlyMap<string, UpstreamCredential>,
  policy: UpstreamPolicy,
  /** The first credential unless named. */
  defaultName = [...credentials.keys()][0] ?? '',
  /** What replicas share (REDIS_URL); each process its own otherwise. */
  shared: {
    pacing?: PacingSource | undefined;
    readCache?: ReadCache | undefined;
    leftovers?: { log: LeftoverLog } | undefined;
  } = {},
): UpstreamClients {
  const { pacing = localPacing, readCache = noReadCache } = shared;
  const leftovers = shared.leftovers?.log;
  // One count per store for the whole process: the limit is the store's, whoever writes.
  const storeWrites = pacing.storeWrites ?? localStoreWrites(policy.storeWritesPerMinute);
  if (!credentials.has(defaultName)) {
    throw new Error('At least one credential is needed, and the default must be one of them.');
  }
  const clients = new Map(
    [...credentials].map(([name, credential]) => [
      name,
      createUpstreamClient(credential, policy, pacing, readCache, leftovers, storeWrites),
    ]),
  );
  const upstreamOfCallers = credentials.get(defaultName);
  return {
    names: [...credentials.keys()],
    defaultName,
    named(name) {
      const client = clients.get(name);
      if (!client) throw new Error(`No upstream client for credential '${name}'.`);
      return client;
    },
    // No leftover log: another replica could not undo what a key it does not hold made.
    forCallerKey(apiKey) {
      return createUpstreamClient(
        { apiKey, baseURL: upstreamOfCallers?.baseURL, fetch: upstreamOfCallers?.fetch },
        policy,
        pacing,
        readCache,
        undefined,
        storeWrites,
      );
    },
  };
}
