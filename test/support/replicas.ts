import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';
import { type GraphQLResponse, TEST_API_KEY } from './gateway.ts';
import { startServer } from './server-process.ts';

/** Debian's package; .ci/run installs it when missing. */
const REDIS_SERVER = '/usr/bin/redis-server';

/** Children of this test process: killed on its way out, even when a test never reached its clean-up. */
const children = new Set<ChildProcess>();
const replicaPids = new Set<number>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const pid of replicaPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TestRedis {
  url: string;
  /** A client of the test's own, to look at what the replicas keep there. */
  client: Redis;
  stop(): Promise<void>;
}

/** A throwaway redis-server on a free loopback port: nothing saved, nothing appended. */
export async function startRedis(): Promise<TestRedis> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.add(child);
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('exit', () => children.delete(child));
    const started = Date.now();
    while (!output.includes('Ready to accept connections')) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() - started > 10_000) break;
      await sleep(20);
    }
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    };
    if (!output.includes('Ready to accept connections')) {
      await stop();
      // Another process took the port between our look and redis's bind.
      if (attempt < 3 && output.includes('Address already in use')) continue;
      throw new Error(`redis-server did not start:\n${output}`);
    }
    const url = `redis://127.0.0.1:${port}`;
    const client = new Redis(url, { maxRetriesPerRequest: 1 });
    return {
      url,
      client,
      async stop() {
        client.disconnect();
        await stop();
      },
    };
  }
}

export type Replica = Awaited<ReturnType<typeof startServer>>;

export interface ReplicaSet {
  redis: TestRedis;
  emulator: Emulator;
  /** The real SDK against the emulator, for seeding. */
  openai: OpenAI;
  replicas: Replica[];
  /** The emulator's count of /v1 calls on one route template. */
  routeCalls(route: string): number;
  /** What each replica was started with: another started with them joins the set's Redis. */
  settings: Record<string, string>;
  /** Stops every replica, Redis and the emulator; safe to call twice. */
  close(): Promise<void>;
}

/**
 * The sets started and not yet closed. A test that times out while its set is still starting
 * never gets the set to close: `closeReplicaSets` (in afterEach) ends it all the same, and the
 * start, which goes on meanwhile, stops what it starts after that.
 */
const openSets = new Set<() => Promise<void>>();

export async function closeReplicaSets(): Promise<void> {
  await Promise.allSettled([...openSets].map((close) => close()));
}

/**
 * `count` gateway processes sharing one Redis (unless `redis: false`), all in front of one
 * emulator that listens on loopback in this process (so its counts are read directly). Each
 * replica runs `src/server.ts` as `npm start` would, configured through the environment.
 */
export async function startReplicaSet(options: {
  count: number;
  redis?: boolean;
  settings?: Record<string, string>;
  emulator?: EmulatorOptions;
}): Promise<ReplicaSet> {
  const emulator = createEmulator(options.emulator);
  const replicas: Replica[] = [];
  let redis: TestRedis | undefined;
  let closed = false;
  const close = async () => {
    closed = true;
    openSets.delete(close);
    await Promise.allSettled(replicas.map((replica) => replica.stop('SIGKILL')));
    await redis?.stop();
    await emulator.close();
  };
  openSets.add(close);
  const closedMeanwhile = () => new Error('The replica set was closed while it was starting.');
  let baseURL: string;
  let settings: Record<string, string>;
  try {
    ({ baseURL } = await emulator.listen());
    if (options.redis !== false) {
      const started = await startRedis();
      if (closed) {
        await started.stop();
        throw closedMeanwhile();
      }
      redis = started;
    }
    settings = {
      OPENAI_API_KEY: TEST_API_KEY,
      OPENAI_BASE_URL: baseURL,
      ...(redis ? { REDIS_URL: redis.url } : {}),
      ...options.settings,
    };
    // One at a time: three tsx starts at once on two busy cores take longer than in turn.
    for (let index = 0; index < options.count; index++) {
      const started = await startServer(settings);
      if (closed) {
        await started.stop('SIGKILL');
        throw closedMeanwhile();
      }
      replicaPids.add(started.pid);
      replicas.push({
        ...started,
        async stop(signal) {
          await started.stop(signal);
          replicaPids.delete(started.pid);
        },
      });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    get redis() {
      if (!redis) throw new Error('This replica set has no Redis.');
      return redis;
    },
    emulator,
    openai: new OpenAI({ apiKey: TEST_API_KEY, baseURL, maxRetries: 0 }),
    replicas,
    routeCalls: (route) => emulator.stats().byRoute[route] ?? 0,
    settings,
    close,
  };
}

/** A GraphQL query over plain HTTP to one replica. */
export async function query<T = Record<string, unknown>>(
  url: string,
  text: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: text, variables }),
  });
  return (await response.json()) as GraphQLResponse<T>;
}
