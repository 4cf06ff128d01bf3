import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { Semaphore, TimeoutError } from 'redis-semaphore';
import type { ConcurrencyLimit } from '../concurrency.ts';
import {
  localPacing,
  type PacingSource,
  STORE_WRITES_WINDOW_SECONDS,
  sharedCredentialId,
  waitUntil,
} from '../upstream/index.ts';
import type { SharedRedis } from './redis.ts';

/**
 * A slot of the shared limit is a holder in a Redis sorted set (redis-semaphore) that its replica
 * refreshes while the call runs; a replica that dies stops refreshing, and its slots come back
 * after `holderTtlMs`. Waiting replicas ask again every `retryMs`.
 */
export const SHARED_SLOTS = { holderTtlMs: 5_000, retryMs: 20 } as const;

const PREFIX = 'vsg:budget:';
/** One channel for every credential's cool-downs: each replica listens once, whatever its credentials. */
export const COOL_DOWNS = `${PREFIX}cool-downs`;

/**
 * A credential's upstream budget across replicas: its concurrency limit counted over all of them,
 * one cool-down after a 429, which every replica honours, and each store's attach writes of the
 * minute (rate-limiter-flexible's Redis counter; this replica's own count stands in while Redis
 * is unreachable). Each replica keeps its own concurrency limit as well, so no more of its calls
 * than the limit ever wait on Redis.
 */
export function redisPacing(
  redis: SharedRedis,
  options: { acquireTimeoutMs: number; storeWritesPerMinute: number },
): PacingSource {
  const { acquireTimeoutMs } = options;
  const window = { points: options.storeWritesPerMinute, duration: STORE_WRITES_WINDOW_SECONDS };
  const { commands, subscriber } = redis;
  /** Cool-downs heard, by credential id: until when (epoch ms). */
  const coolUntil = new Map<string, number>();
  const untilOf = (id: string) => {
    const until = coolUntil.get(id) ?? 0;
    if (until <= Date.now()) coolUntil.delete(id);
    return until;
  };
  const extend = (id: string, ms: number) => {
    coolUntil.set(id, Math.max(coolUntil.get(id) ?? 0, Date.now() + ms));
  };
  subscriber.on('message', (channel: string, text: string) => {
    if (channel !== COOL_DOWNS) return;
    try {
      // Relative, so replicas whose clocks differ wait as long as the one that met the 429.
      const { id, ms } = JSON.parse(text) as { id: string; ms: number };
      if (typeof id === 'string' && typeof ms === 'number') extend(id, ms);
    } catch {
      // Not one of ours.
    }
  });
  void subscriber.subscribe(COOL_DOWNS).catch(() => {});

  return {
    storeWrites: new RateLimiterRedis({
      storeClient: commands,
      keyPrefix: `${PREFIX}store-writes`,
      ...window,
      insuranceLimiter: new RateLimiterMemory(window),
    }),
    forCredential(credential, concurrency) {
      const id = sharedCredentialId(credential);
      // A cool-down another replica began before this one started.
      void commands
        .pttl(`${PREFIX}cool:${id}`)
        .then((ms) => ms > 0 && extend(id, ms))
        .catch(() => {});
      const local = localPacing.forCredential(credential, concurrency).limit;
      const limit: ConcurrencyLimit = {
        run: (task) =>
          local.run(async () => {
            const slot = new Semaphore(commands, `${PREFIX}slots:${id}`, concurrency, {
              lockTimeout: SHARED_SLOTS.holderTtlMs,
              acquireTimeout: acquireTimeoutMs,
              retryInterval: SHARED_SLOTS.retryMs,
              // A slot lost to a long stall only lets one more call through; the call goes on.
              onLockLost: () => {},
            });
            try {
              await slot.acquire();
            } catch (error) {
              // No slot within a call's deadline: the call fails as it would have timed out. Redis
              // unreachable: it goes on under this replica's own limit rather than fail for want
              // of the shared count.
              if (error instanceof TimeoutError) throw error;
              return task();
            }
            try {
              return await task();
            } finally {
              // Before this replica's own slot is free, so its next call does not find it taken.
              await slot.release().catch(() => {});
            }
          }),
        get active() {
          return local.active;
        },
        get waiting() {
          return local.waiting;
        },
      };
      return {
        limit,
        ready: (signal) => waitUntil(() => untilOf(id), signal),
        coolDown(seconds) {
          const ms = Math.round(seconds * 1000);
          if (ms <= 0) return;
          extend(id, ms);
          void commands.publish(COOL_DOWNS, JSON.stringify({ id, ms })).catch(() => {});
          // Kept as well, for a replica that starts while it lasts (it missed the message).
          if (untilOf(id) <= Date.now() + ms) {
            void commands.set(`${PREFIX}cool:${id}`, '1', 'PX', ms).catch(() => {});
          }
        },
      };
    },
  };
}
