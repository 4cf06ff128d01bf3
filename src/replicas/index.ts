import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ReplicaSharing } from '../app-types.ts';
import { redisLeftovers } from './leftovers.ts';
import { redisCaps } from './live-caps.ts';
import { redisPollSharing } from './poll-leases.ts';
import { redisReadCache } from './read-cache.ts';
import { connectSharedRedis } from './redis.ts';
import { redisPacing } from './upstream-budget.ts';

export { REPLICA_LIFE } from './leftovers.ts';
export { SHARED_PLACES } from './live-caps.ts';
export { POLL_LEASE } from './poll-leases.ts';
export { SHARED_SLOTS } from './upstream-budget.ts';

/**
 * With `REDIS_URL`, what replicas share through that Redis; the process is one of them under
 * `replicaId` (its host and pid, readable in lease values, and a random part: a restarted
 * container has the same host name and pid, and must not pass for its dead predecessor). The
 * connection closes last, after the app has let go of its leases.
 */
export async function connectReplicas(
  url: string,
  options: {
    /** How long a call may wait for a slot of its credential's shared limit: its own deadline. */
    callTimeoutMs: number;
    /** How long a read is answered from the shared cache; 0: no cache. */
    readCacheTtlMs: number;
    /** Attach writes a minute per vector store, counted across replicas. */
    storeWritesPerMinute: number;
  },
): Promise<{ sharing: ReplicaSharing; replicaId: string; close(): Promise<void> }> {
  const replicaId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const redis = await connectSharedRedis(url, replicaId);
  const leftovers = redisLeftovers(redis);
  return {
    sharing: {
      polls: redisPollSharing(redis),
      pacing: redisPacing(redis, {
        acquireTimeoutMs: options.callTimeoutMs,
        storeWritesPerMinute: options.storeWritesPerMinute,
      }),
      caps: redisCaps(redis),
      ...(options.readCacheTtlMs > 0 ? { readCache: redisReadCache(redis, options.readCacheTtlMs) } : {}),
      leftovers,
    },
    replicaId,
    async close() {
      await leftovers.stop();
      await redis.close();
    },
  };
}
