import type { PacedCredential } from './pacing.ts';

/**
 * A cache of a credential's reads, in front of the SDK's transport: what it answers costs no
 * upstream call. Off unless configured (src/replicas/read-cache.ts, shared by replicas).
 */
export interface ReadCache {
  wrap(transport: typeof fetch, credential: PacedCredential): typeof fetch;
  /** Drops the credential's entries: a write made outside the SDK's transport (a streamed upload). */
  forget(credential: PacedCredential): Promise<void>;
}

export const noReadCache: ReadCache = { wrap: (transport) => transport, forget: () => Promise.resolve() };
