/**
 * How replicas share the polling of one object: one of them holds its lease and polls, the others
 * relay what it publishes. The registry works without it (one process, its own pollers); with
 * `REDIS_URL` the Redis implementation (src/replicas/poll-leases.ts) is given to it.
 */

/** What the holder tells the others: a polled state, or how the watch ends for everyone. */
export type SharedPollEvent =
  | { type: 'value'; value: unknown; terminal: boolean }
  | { type: 'error'; message: string; extensions: Record<string, unknown>; upstreamCode?: string };

/** One replica's part in the polling of one object; its calls come in no particular order. */
export interface PollMember {
  /** This replica now holds the lease: it polls, and publishes what it sees. */
  lead(): void;
  /** It no longer holds it (another replica took it, or Redis could not confirm it): stop polling. */
  unlead(): void;
  /** What the holder published, the last state first when there is one; never this replica's own. */
  hear(event: SharedPollEvent): void;
}

export interface PollMembership {
  /** Tells the other replicas; only the holder's events are published. */
  publish(event: SharedPollEvent): void;
  /** This replica stops watching: its lease, if it holds it, is released for another to take. */
  leave(): void;
}

export interface PollSharing {
  /** Joins the replicas watching `key` (credential and object, the same on every replica). */
  join(key: string, member: PollMember): PollMembership;
  /**
   * Waits for one of the credential's `perSecond` status reads of this second, counted across
   * replicas (the shared credential id); rejects when `signal` aborts.
   */
  turn(credentialId: string, perSecond: number, signal: AbortSignal): Promise<void>;
}

/**
 * Places counted across replicas: each watch of a credential (and of a gateway token) holds one
 * while it lasts, so a cap on watches holds over all replicas, not per replica.
 */
export interface SharedCaps {
  /** One of `limit` places under `key`, held until released; null when all are taken. */
  take(key: string, limit: number): Promise<{ release(): void } | null>;
}
