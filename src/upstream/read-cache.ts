import type { PacedCredential } from './pacing.ts';

/**
 * A cache of a credential's reads, in front of the SDK's transport: what it answers costs no
 * upstream call. Off unless configured (src/replicas/read-cache.ts, shared by replicas).
 */
export interface ReadCache {
  wrap(transport: typeof fetch, credential: PacedCredential): typeof fetch;
}

export const noReadCache: ReadCache = { wrap: (transport) => transport };
