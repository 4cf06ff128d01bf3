import { Redis } from 'ioredis';

/**
 * The Redis that replicas share (`REDIS_URL`): one connection for commands, and one for the
 * channels it listens to, since a connection that subscribes can send nothing else.
 */
export interface SharedRedis {
  readonly commands: Redis;
  readonly subscriber: Redis;
  /** This process among the replicas: in lease values, so a holder can be told apart. */
  readonly replicaId: string;
  close(): Promise<void>;
}

/** How long a replica waits for Redis at start before it gives up, rather than serve unshared. */
const CONNECT_TIMEOUT_MS = 10_000;

export async function connectSharedRedis(url: string, replicaId: string): Promise<SharedRedis> {
  const open = async (role: string): Promise<Redis> => {
    const client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      connectionName: `vector-store-gateway:${replicaId}:${role}`,
      // A command waits for a reconnection rather than fail at the first dropped packet; the
      // callers' own deadlines bound the wait.
      maxRetriesPerRequest: 3,
    });
    // ioredis reconnects by itself; say once that Redis went away (each command that meets it
    // fails on its own), and again only after it has been back. Before the first connection the
    // start fails instead, in one line.
    let reported = true;
    client.on('ready', () => {
      reported = false;
    });
    client.on('error', (error: Error) => {
      if (reported) return;
      reported = true;
      console.error(`Redis at REDIS_URL (${role}): ${error.message}; reconnecting`);
    });
    try {
      await client.connect();
    } catch (error) {
      client.disconnect();
      throw new Error(`cannot reach Redis at REDIS_URL (${(error as Error).message})`);
    }
    return client;
  };
  const commands = await open('commands');
  const subscriber = await open('subscriber').catch((error: unknown) => {
    commands.disconnect();
    throw error;
  });
  return {
    commands,
    subscriber,
    replicaId,
    async close() {
      await Promise.allSettled([commands.quit(), subscriber.quit()]);
    },
  };
}
