import { Semaphore } from 'redis-semaphore';
import type { SharedCaps } from '../live/sharing.ts';
import type { SharedRedis } from './redis.ts';

/**
 * A place is a holder in a Redis sorted set (redis-semaphore), refreshed by its replica while the
 * watch lasts: a replica that dies stops refreshing, and its places come back after `holderTtlMs`.
 */
export const SHARED_PLACES = { holderTtlMs: 10_000 } as const;

const PREFIX = 'vsg:caps:';

export function redisCaps(redis: SharedRedis): SharedCaps {
  return {
    async take(key, limit) {
      const place = new Semaphore(redis.commands, `${PREFIX}${key}`, limit, {
        lockTimeout: SHARED_PLACES.holderTtlMs,
        acquireAttemptsLimit: 1,
        // A place lost to a long stall lets one more watch in; the watch goes on.
        onLockLost: () => {},
      });
      let taken: boolean;
      try {
        taken = await place.tryAcquire();
      } catch {
        // Redis unreachable: this replica's own caps still hold, so the watch is let in.
        return { release() {} };
      }
      if (!taken) return null;
      return {
        release: () => void place.release().catch(() => {}),
      };
    },
  };
}
