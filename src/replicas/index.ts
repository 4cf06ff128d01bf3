import { hostname } from 'node:os';
import type { ReplicaSharing } from '../app-types.ts';
import { redisPollSharing } from './poll-leases.ts';
import { connectSharedRedis } from './redis.ts';

export { POLL_LEASE } from './poll-leases.ts';

/**
 * With `REDIS_URL`, what replicas share through that Redis; the process is one of them under
 * `replicaId` (its host and pid, readable in lease values). The connection closes last, after
 * the app has let go of its leases.
 */
export async function connectReplicas(
  url: string,
): Promise<{ sharing: ReplicaSharing; replicaId: string; close(): Promise<void> }> {
  const replicaId = `${hostname()}:${process.pid}`;
  const redis = await connectSharedRedis(url, replicaId);
  return { sharing: { polls: redisPollSharing(redis) }, replicaId, close: () => redis.close() };
}
