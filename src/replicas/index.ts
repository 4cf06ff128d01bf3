import { hostname } from 'node:os';
import { connectSharedRedis } from './redis.ts';

/**
 * With `REDIS_URL`, what replicas share through that Redis; the process is one of them under
 * `replicaId` (its host and pid, readable in lease values). The connection closes last, after
 * the app has let go of what it holds there.
 */
export async function connectReplicas(url: string): Promise<{ replicaId: string; close(): Promise<void> }> {
  const replicaId = `${hostname()}:${process.pid}`;
  const redis = await connectSharedRedis(url, replicaId);
  return { replicaId, close: () => redis.close() };
}
