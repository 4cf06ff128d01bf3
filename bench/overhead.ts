import OpenAI from 'openai';
import { defaultUpstreamPolicy } from '../src/upstream/index.ts';
import {
  type ChildServer,
  type EmulatorProcess,
  type Headline,
  type LoadResult,
  load,
  ms,
  percentile,
  processCpuSeconds,
  type ScenarioResult,
  startChild,
  startEmulatorProcess,
  startGatewayProcess,
} from './support.ts';

const API_KEY = 'bench-key';
const STORE_NAME = 'overhead-store';
const QUERY = 'query Overhead($id: ID!) { vectorStore(id: $id) { name } }';
const CONCURRENCIES = [1, 16, 64] as const;
/** The target: gateway p50 / direct p50 at concurrency 16 with 50 ms upstream latency. */
const TARGET_RATIO = 1.3;
const UPSTREAM_CONCURRENCY = defaultUpstreamPolicy.concurrency;

interface Targets {
  emulator: EmulatorProcess;
  gateway: ChildServer;
  direct: ChildServer;
  storeId: string;
}

const PATHS = ['upstream', 'direct', 'gateway'] as const;
type Path = (typeof PATHS)[number];
const PATH_NAMES: Record<Path, string> = {
  upstream: 'emulator alone',
  direct: 'direct SDK',
  gateway: 'gateway',
};

interface Timing {
  /** Measured seconds per path and concurrency, split over `rounds`. */
  seconds: number;
  rounds: number;
  /** Unmeasured load before each round of each path. */
  warmupSeconds: number;
  /** Load on every path before the first measurement, at concurrency 16 and no added latency. */
  initialWarmupSeconds: number;
}

interface Measured {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  cpuMsPerRequest: number;
}

/** The process serving `path`, whose CPU time per request is reported. */
function server(targets: Targets, path: Path): number {
  if (path === 'upstream') return targets.emulator.pid;
  return path === 'direct' ? targets.direct.pid : targets.gateway.pid;
}

function drive(targets: Targets, path: Path, connections: number, seconds: number): Promise<LoadResult> {
  const { emulator, gateway, direct, storeId } = targets;
  const common = { connections, durationSeconds: seconds };
  const named = (body: string) => body.includes(`"name":"${STORE_NAME}"`) && !body.includes('"errors"');
  switch (path) {
    case 'upstream':
      return load({
        ...common,
        url: `${emulator.baseURL}/vector_stores/${storeId}`,
        headers: { authorization: `Bearer ${API_KEY}` },
        verify: named,
      });
    case 'direct':
      return load({ ...common, url: `${direct.url}/vector_stores/${storeId}`, verify: named });
    case 'gateway':
      return load({
        ...common,
        url: gateway.url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: QUERY, variables: { id: storeId } }),
        verify: named,
      });
  }
}

/**
 * Every path at one concurrency, in rounds: each round drives each path in turn, so a burst of
 * noise on the machine lands on all of them alike. The rounds of a path are pooled.
 */
async function measureAll(
  targets: Targets,
  connections: number,
  timing: Timing,
): Promise<Record<Path, Measured>> {
  const pooled = Object.fromEntries(
    PATHS.map((path) => [path, { runs: [] as LoadResult[], cpuSeconds: 0 }]),
  ) as Record<Path, { runs: LoadResult[]; cpuSeconds: number }>;
  for (let round = 0; round < timing.rounds; round++) {
    for (const path of PATHS) {
      await drive(targets, path, connections, timing.warmupSeconds);
      const pid = server(targets, path);
      const cpuBefore = processCpuSeconds(pid);
      pooled[path].runs.push(await drive(targets, path, connections, timing.seconds / timing.rounds));
      pooled[path].cpuSeconds += processCpuSeconds(pid) - cpuBefore;
    }
  }
  const measured = {} as Record<Path, Measured>;
  for (const path of PATHS) {
    const { runs, cpuSeconds } = pooled[path];
    const latencies = runs.flatMap((run) => run.latencies);
    const responses = runs.reduce((sum, run) => sum + run.responses, 0);
    const seconds = runs.reduce((sum, run) => sum + run.durationSeconds, 0);
    measured[path] = {
      requestsPerSecond: responses / seconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      errors: runs.reduce((sum, run) => sum + run.errors, 0),
      cpuMsPerRequest: (cpuSeconds * 1000) / responses,
    };
  }
  return measured;
}

/**
 * `vectorStore(id) { name }` through the gateway against the same SDK call made directly, at
 * concurrency 1, 16 and 64, with the emulator adding each of `latenciesMs` to every call.
 */
export async function overheadScenario(options: {
  quick: boolean;
  latenciesMs: number[];
}): Promise<ScenarioResult> {
  const timing: Timing = options.quick
    ? { seconds: 2, rounds: 1, warmupSeconds: 0.5, initialWarmupSeconds: 1 }
    : { seconds: 8, rounds: 2, warmupSeconds: 1, initialWarmupSeconds: 5 };
  const emulator = await startEmulatorProcess({ apiKey: API_KEY });
  const upstream = { baseURL: emulator.baseURL, apiKey: API_KEY };
  const gateway = await startGatewayProcess({ name: 'overhead-gateway', upstream });
  const direct = await startChild({
    name: 'overhead-direct',
    entry: 'bench/direct-sdk.ts',
    env: { OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: emulator.baseURL },
    urlPattern: /listening at (\S+)/,
  });
  const rows: string[][] = [];
  const headlines: Headline[] = [];
  try {
    const openai = new OpenAI({ apiKey: API_KEY, baseURL: emulator.baseURL });
    const { id: storeId } = await openai.vectorStores.create({ name: STORE_NAME });
    const targets: Targets = { emulator, gateway, direct, storeId };
    // JIT, pools and lazily loaded modules: the gateway needs a few thousand requests to settle.
    await emulator.setFaults({});
    for (const path of PATHS) await drive(targets, path, 16, timing.initialWarmupSeconds);

    for (const latencyMs of options.latenciesMs) {
      await emulator.setFaults(latencyMs > 0 ? { latencyMs } : {});
      for (const connections of CONCURRENCIES) {
        const measured = await measureAll(targets, connections, timing);
        const ratio = measured.gateway.p50 / measured.direct.p50;
        for (const path of PATHS) {
          const m = measured[path];
          console.log(
            `  +${latencyMs} ms, c${connections}, ${path}: ${m.requestsPerSecond.toFixed(0)}/s p50 ${ms(m.p50)} p99 ${ms(m.p99)} errors ${m.errors} cpu ${m.cpuMsPerRequest.toFixed(2)} ms/req`,
          );
          rows.push([
            `+${latencyMs} ms`,
            String(connections),
            PATH_NAMES[path],
            m.requestsPerSecond.toFixed(0),
            ms(m.p50),
            ms(m.p99),
            String(m.errors),
            `${m.cpuMsPerRequest.toFixed(2)} ms`,
            path === 'gateway' ? `**${ratio.toFixed(2)}x**` : '',
          ]);
        }
        if (connections === 16) {
          headlines.push({
            measure: `Overhead: gateway/direct p50 at concurrency 16, +${latencyMs} ms upstream`,
            value: `${ratio.toFixed(2)}x (${ms(measured.gateway.p50)} vs ${ms(measured.direct.p50)})`,
            ...(latencyMs === 50 && !options.quick
              ? { target: `< ${TARGET_RATIO}`, met: ratio < TARGET_RATIO }
              : {}),
          });
        }
      }
    }
  } finally {
    await Promise.all([gateway.close(), direct.close()]);
    await emulator.close();
  }
  const perRound = timing.seconds / timing.rounds;
  return {
    scenario: 'Overhead: `vectorStore(id) { name }` through the gateway and directly',
    setup: [
      '**gateway**: `POST /graphql` with `query Overhead($id: ID!) { vectorStore(id: $id) { name } }` to `src/server.ts` (one SDK call, `GET /v1/vector_stores/{id}`, per request).',
      '**direct SDK**: `GET /vector_stores/{id}` to bench/direct-sdk.ts, a bare `node:http` server in its own process whose handler awaits `client.vectorStores.retrieve(id)` with a stock `openai` client and answers `{"name": ...}`: the same SDK call behind the same kind of HTTP hop, without GraphQL.',
      '**emulator alone**: autocannon straight at `GET /v1/vector_stores/{id}` of the emulator: the floor both paths sit on.',
      `autocannon drives each path with the given number of connections, each sending its next request when its answer arrives. Per upstream latency and concurrency: ${timing.rounds} round${timing.rounds > 1 ? 's' : ''}, each one driving emulator alone, direct SDK and gateway in turn for ${timing.warmupSeconds} s unmeasured then ${perRound} s measured; a path's rounds are pooled (${timing.seconds} s measured in all). Before any of it each path had ${timing.initialWarmupSeconds} s of load at 16 connections (JIT, pools). The emulator adds the latency to every /v1 call (\`latencyMs\` fault, no jitter).`,
      'p50 and p99 are exact percentiles of every 2xx answer latency (autocannon per-response timings). Errors: connection errors, timeouts, non-2xx, and answers without the store name or with `errors`. Server CPU / request: user + system CPU time of the serving process (emulator, direct server or gateway; /proc/PID/stat) over the measured windows, divided by the requests answered (coarse at low rates: the kernel counts CPU time in 10 ms ticks, and idle background work is spread over few requests). The ratio is gateway p50 / direct p50 of the same rounds.',
      `The gateway runs with its defaults, among them at most ${UPSTREAM_CONCURRENCY} upstream calls in flight per credential (\`UPSTREAM_CONCURRENCY\`): at 64 connections the calls past ${UPSTREAM_CONCURRENCY} wait for a slot, where the stock SDK client of the direct path sends them all at once. With no added latency every path is CPU-bound on this 2-core machine, shared by autocannon, the server and the emulator.`,
    ],
    table: {
      columns: [
        'upstream latency',
        'connections',
        'path',
        'requests/s',
        'p50',
        'p99',
        'errors',
        'server CPU / request',
        'gateway/direct p50',
      ],
      rows,
    },
    headlines,
  };
}
