import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RateLimiterAbstract, RateLimiterMemory } from 'rate-limiter-flexible';
import { type ConcurrencyLimit, createConcurrencyLimit } from '../concurrency.ts';

/** The credential, as far as pacing needs it: what it is, and how many calls it may have out. */
export interface PacedCredential {
  apiKey: string;
  baseURL?: string | undefined;
  organization?: string | undefined;
  project?: string | undefined;
}

/**
 * How one credential's calls are paced: the concurrency limit they share, and the cool-down a
 * 429 imposes on all of them. OpenAI's rate limits are per organization and project, so with
 * several replicas both must hold across them (src/replicas/upstream-budget.ts); one process
 * keeps its own (`localPacing`), as it always has.
 */
export interface CredentialPacing {
  readonly limit: ConcurrencyLimit;
  /** Resolves once no cool-down holds the credential (at once when none); rejects on abort. */
  ready(signal?: AbortSignal | null): Promise<void>;
  /** An answer asked the credential to wait `seconds` before calling again. */
  coolDown(seconds: number): void;
}

export interface PacingSource {
  forCredential(credential: PacedCredential, concurrency: number): CredentialPacing;
  /** Each vector store's attach writes of the minute across replicas; unless given, per process. */
  readonly storeWrites?: RateLimiterAbstract;
}

/** The window OpenAI's per-store write limit counts in. */
export const STORE_WRITES_WINDOW_SECONDS = 60;

/** A store-write counter of this process (rate-limiter-flexible), shared by all its credentials. */
export function localStoreWrites(perMinute: number): RateLimiterAbstract {
  return new RateLimiterMemory({ points: perMinute, duration: STORE_WRITES_WINDOW_SECONDS });
}

/**
 * One process's pacing: its own limit per credential; a 429 is waited out by the call that met
 * it (the SDK's retry), not by the credential's other calls.
 */
export const localPacing: PacingSource = {
  forCredential: (_credential, concurrency) => ({
    limit: createConcurrencyLimit(concurrency),
    ready: () => Promise.resolve(),
    coolDown() {},
  }),
};

/**
 * The credential as every replica knows it: a digest of its key and where it sends it, since its
 * name is only one configuration's (and a caller's own key has none). Never the key itself.
 */
export function sharedCredentialId(credential: PacedCredential): string {
  const { apiKey, baseURL, organization, project } = credential;
  return createHash('sha256')
    .update(JSON.stringify([apiKey, baseURL ?? null, organization ?? null, project ?? null]))
    .digest('base64url');
}

/** Waits until `untilMs` (epoch), however often it is pushed later meanwhile. */
export async function waitUntil(untilOf: () => number, signal?: AbortSignal | null): Promise<void> {
  for (let left = untilOf() - Date.now(); left > 0; left = untilOf() - Date.now()) {
    await sleep(left, undefined, signal ? { signal } : {});
  }
}
