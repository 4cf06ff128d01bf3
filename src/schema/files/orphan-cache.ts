/**
 * Where orphan scans keep their state between requests: in this process, bounded, keyed by the
 * credential and the scan id, so one credential never reaches another's scan. Losing an entry
 * (eviction, expiry, a restart, another replica) costs calls, never correctness: the scan rebuilds
 * it from the cursor (orphan-scan.ts).
 */

/** What an entry weighs: the ids it holds. */
export interface Weighed {
  weight(): number;
}

export interface ScanCacheLimits {
  /** A scan idle this long is dropped: its next page rebuilds it. */
  ttlMs: number;
  /** Scans kept per credential: a caller restarting scans evicts its own, not others'. */
  entriesPerCredential: number;
  entries: number;
  /** Ids held by all entries together (about 100 bytes each in a Set). */
  weight: number;
}

export const SCAN_CACHE_LIMITS: Readonly<ScanCacheLimits> = Object.freeze({
  ttlMs: 15 * 60_000,
  entriesPerCredential: 4,
  entries: 64,
  weight: 2_000_000,
});

interface Entry<T> {
  owner: string;
  value: T;
  usedAt: number;
  /** The work running on it; the next waits, so two pages of one scan never interleave. */
  busy: Promise<unknown>;
}

export class ScanCache<T extends Weighed> {
  /** In least-recently-used order. */
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly limits: Readonly<ScanCacheLimits> = SCAN_CACHE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Runs `work` on the scan's state, alone: `created` says it was missing and was made afresh.
   * The entry is kept (and others evicted to make room) once the work is done.
   */
  async use<R>(
    owner: string,
    scanId: string,
    create: () => T,
    work: (state: T, created: boolean) => Promise<R>,
  ): Promise<R> {
    this.expire();
    const key = `${owner}\u0000${scanId}`;
    let entry = this.entries.get(key);
    const created = !entry;
    if (!entry) entry = { owner, value: create(), usedAt: this.now(), busy: Promise.resolve() };
    const current = entry;
    this.entries.delete(key);
    this.entries.set(key, current);
    const run = current.busy.then(
      () => work(current.value, created),
      () => work(current.value, created),
    );
    current.busy = run.catch(() => undefined);
    try {
      return await run;
    } finally {
      current.usedAt = this.now();
      // A dropped entry (clear(), or evicted while busy) stays dropped.
      if (this.entries.get(key) === current) this.evict(key);
    }
  }

  /** Drops every scan, as a restart would. */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private expire(): void {
    const oldest = this.now() - this.limits.ttlMs;
    for (const [key, entry] of this.entries) {
      if (entry.usedAt < oldest) this.entries.delete(key);
    }
  }

  /** Makes room, least recently used first, never evicting `keep` unless it alone is too heavy. */
  private evict(keep: string): void {
    const kept = this.entries.get(keep);
    if (!kept) return;
    if (kept.value.weight() > this.limits.weight) {
      this.entries.delete(keep);
      return;
    }
    // The credential's own share first, so it makes room from its own scans before anyone else's.
    const own = [...this.entries].filter(([key, entry]) => key !== keep && entry.owner === kept.owner);
    for (const [key] of own.slice(0, Math.max(0, own.length + 1 - this.limits.entriesPerCredential))) {
      this.entries.delete(key);
    }
    let weight = 0;
    for (const entry of this.entries.values()) weight += entry.value.weight();
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.limits.entries && weight <= this.limits.weight) break;
      if (key === keep) continue;
      this.entries.delete(key);
      weight -= entry.value.weight();
    }
  }
}
