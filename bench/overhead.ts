import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { defaultUpstreamPolicy } from '../src/upstream/index.ts';
import { MESH_QUERY, meshVersions, startMeshProcess } from './mesh-peer.ts';
import {
  type ChildServer,
  childPids,
  type EmulatorProcess,
  type Headline,
  type LoadResult,
  load,
  median,
  mib,
  ms,
  processCpuSeconds,
  processMemory,
  type ScenarioResult,
  sleep,
  startChild,
  startEmulatorProcess,
  startGatewayProcess,
} from './support.ts';

const API_KEY = 'bench-key';
const STORE_NAME = 'overhead-store';
const QUERY = 'query Overhead($id: ID!) { vectorStore(id: $id) { name } }';
const CONCURRENCIES = [1, 16, 64] as const;
const UPSTREAM_CONCURRENCY = defaultUpstreamPolicy.concurrency;
/** Every path makes one upstream call per request; more than this fails the scenario. */
const MAX_CALLS_PER_REQUEST = 1.05;
const MIN_ROUNDS = 3;

/**
 * The rules that make the paths comparable, for the method section of BENCHMARKS.md. They are
 * enforced here, so the text and the code are kept side by side.
 */
export const FAIR_RULES = [
  '**One process on each side.** The gateway, the direct-SDK server, GraphQL Mesh (Hive Gateway with `--fork 1`) and the emulator each run as one Node process, and the bench checks that none of them has a child process (other than the idle esbuild service tsx starts when its compile cache is cold). CPU time and memory are read from outside each process (/proc/PID/stat, /proc/PID/status), so the load generator is never counted.',
  "**As shipped.** The gateway runs as `npm start` runs it, with its defaults (the compiled dist/server.js, only `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `PORT` and `HOST` set), logging one line per request as deployed. GraphQL Mesh runs the recipe in bench/peers/mesh as it comes: its locked packages, its mesh.config.ts and gateway.config.ts, and Hive Gateway's defaults apart from one worker, the host and the port. The direct-SDK server is a stock `openai` client with default options. No path is tuned for the bench: no cache, pool size or log level is changed from what each ships with.",
  `**One upstream call per request on every path.** Every path answers \`vectorStore(id) { name }\` or its equivalent with exactly one \`GET /v1/vector_stores/{id}\`. The bench counts the emulator's requests around every measured window (once the count stops moving) and fails the scenario if a path makes more than ${MAX_CALLS_PER_REQUEST} upstream calls per request. Requests are those autocannon sent, so the one per connection it cuts off when a window closes, whose upstream call is made but whose answer is not counted, does not read as a second call.`,
  `**Same load, interleaved.** Every path gets the same query shape, the same connections, the same durations and the same emulator, in at least ${MIN_ROUNDS} rounds. A round drives every path in turn (the starting path rotates from round to round), so noise on the shared machine lands on all paths alike. Each figure is the median of the rounds, and every round is listed.`,
];

interface Targets {
  emulator: EmulatorProcess;
  gateway: ChildServer;
  direct: ChildServer;
  yoga: ChildServer;
  mesh: ChildServer;
  storeId: string;
}

const PATHS = ['upstream', 'direct', 'yoga', 'gateway', 'mesh'] as const;
type Path = (typeof PATHS)[number];
const PATH_NAMES: Record<Path, string> = {
  upstream: 'emulator alone',
  direct: 'direct SDK',
  yoga: 'bare yoga',
  gateway: 'gateway',
  mesh: 'GraphQL Mesh',
};
const PROCESS_NAMES: Record<Path, string> = {
  upstream: 'src/emulator/main.ts (serves every path)',
  direct: 'bench/direct-sdk.ts',
  yoga: 'bench/bare-yoga.ts',
  gateway: 'dist/server.js',
  mesh: 'Hive Gateway',
};

interface Timing {
  /** Measured seconds per path in each round. */
  roundSeconds: number;
  rounds: number;
  /** Unmeasured load before each round of each path. */
  warmupSeconds: number;
  /** Load on every path before the first measurement, at concurrency 16 and no added latency. */
  initialWarmupSeconds: number;
}

/** One path's measured window in one round. */
interface Round {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  responses: number;
  requestsSent: number;
  cpuMsPerRequest: number;
  upstreamCalls: number;
}

/** One path at one latency and concurrency: the median of its rounds, and the rounds. */
interface Measured {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  cpuMsPerRequest: number;
  callsPerRequest: number;
  rounds: Round[];
}

/** The process serving `path`, whose CPU time and memory are reported. */
function server(targets: Targets, path: Path): number {
  return path === 'upstream' ? targets.emulator.pid : targets[path].pid;
}

/** What autocannon sends on `path`: the same lookup of the same store on every path. */
function request(
  targets: Targets,
  path: Path,
): { url: string; method: 'GET' | 'POST'; headers: Record<string, string>; body?: string } {
  const { emulator, storeId } = targets;
  const graphql = (query: string) => ({
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables: { id: storeId } }),
  });
  switch (path) {
    case 'upstream':
      return {
        url: `${emulator.baseURL}/vector_stores/${storeId}`,
        method: 'GET',
        headers: { authorization: `Bearer ${API_KEY}` },
      };
    case 'direct':
      return { url: `${targets.direct.url}/vector_stores/${storeId}`, method: 'GET', headers: {} };
    case 'yoga':
      return { url: targets.yoga.url, ...graphql(QUERY) };
    case 'gateway':
      return { url: targets.gateway.url, ...graphql(QUERY) };
    case 'mesh':
      return { url: targets.mesh.url, ...graphql(MESH_QUERY) };
  }
}

const named = (body: string) => body.includes(`"name":"${STORE_NAME}"`) && !body.includes('"errors"');

function drive(targets: Targets, path: Path, connections: number, seconds: number): Promise<LoadResult> {
  return load({ ...request(targets, path), connections, durationSeconds: seconds, verify: named });
}

/** One request per path before any load, so a path that answers wrongly fails at once, loudly. */
async function checkAnswers(targets: Targets): Promise<void> {
  for (const path of PATHS) {
    const { url, ...init } = request(targets, path);
    const body = await (await fetch(url, init)).text();
    if (!named(body)) throw new Error(`${PATH_NAMES[path]} answered ${body.slice(0, 500)}`);
  }
}

/**
 * The one-process rule: a server that forked workers would get more than its share of CPU. tsx's
 * esbuild service is the exception: tsx starts it to compile modules that are not in its disk
 * cache yet (the first run after a change), and it only sits idle once they are loaded.
 */
function checkOneProcess(targets: Targets): void {
  const commandOf = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      return '(ended)';
    }
  };
  for (const path of PATHS) {
    const children = childPids(server(targets, path))
      .map((pid) => `${pid} ${commandOf(pid)}`)
      .filter((child) => !/\/@esbuild\/[^/]+\/bin\/esbuild --service/.test(child));
    if (children.length > 0) {
      throw new Error(`${PATH_NAMES[path]} runs child processes (${children.join('; ')}); one process each`);
    }
  }
}

/**
 * The emulator's request count once it has stopped moving: calls that a server still sends for
 * requests autocannon cut off (or that wait in the gateway's upstream queue) land before it.
 */
async function settledRequestCount(emulator: EmulatorProcess): Promise<number> {
  let count = await emulator.requestCount();
  for (let tries = 0; tries < 20; tries++) {
    await sleep(100);
    const now = await emulator.requestCount();
    if (now === count) break;
    count = now;
  }
  return count;
}

/**
 * Every path at one concurrency, in rounds: each round drives each path in turn (starting one
 * path further each round), so a burst of noise on the machine lands on all of them alike.
 */
async function measureAll(
  targets: Targets,
  connections: number,
  timing: Timing,
): Promise<Record<Path, Measured>> {
  const rounds = Object.fromEntries(PATHS.map((path) => [path, [] as Round[]])) as Record<Path, Round[]>;
  for (let round = 0; round < timing.rounds; round++) {
    for (let i = 0; i < PATHS.length; i++) {
      const path = PATHS[(i + round) % PATHS.length] as Path;
      await drive(targets, path, connections, timing.warmupSeconds);
      const pid = server(targets, path);
      const callsBefore = await settledRequestCount(targets.emulator);
      const cpuBefore = processCpuSeconds(pid);
      const run = await drive(targets, path, connections, timing.roundSeconds);
      const cpuSeconds = processCpuSeconds(pid) - cpuBefore;
      const callsAfter = await settledRequestCount(targets.emulator);
      rounds[path].push({
        requestsPerSecond: run.responses / run.durationSeconds,
        p50: run.p50,
        p99: run.p99,
        errors: run.errors,
        responses: run.responses,
        requestsSent: run.requestsSent,
        cpuMsPerRequest: (cpuSeconds * 1000) / run.responses,
        upstreamCalls: callsAfter - callsBefore,
      });
    }
  }
  const measured = {} as Record<Path, Measured>;
  for (const path of PATHS) {
    const runs = rounds[path];
    const of = (pick: (round: Round) => number) => median(runs.map(pick));
    const sum = (pick: (round: Round) => number) => runs.reduce((total, round) => total + pick(round), 0);
    measured[path] = {
      requestsPerSecond: of((r) => r.requestsPerSecond),
      p50: of((r) => r.p50),
      p99: of((r) => r.p99),
      cpuMsPerRequest: of((r) => r.cpuMsPerRequest),
      errors: sum((r) => r.errors),
      callsPerRequest: sum((r) => r.upstreamCalls) / sum((r) => r.requestsSent),
      rounds: runs,
    };
    if (measured[path].callsPerRequest > MAX_CALLS_PER_REQUEST) {
      throw new Error(
        `${PATH_NAMES[path]} made ${sum((r) => r.upstreamCalls)} upstream calls for ${sum((r) => r.requestsSent)} requests at ${connections} connections (${measured[path].callsPerRequest.toFixed(2)} per request, at most ${MAX_CALLS_PER_REQUEST} allowed): the paths would not be doing the same work`,
      );
    }
  }
  return measured;
}

/**
 * A ratio between two paths: the median of its per-round values, since the paths of one round
 * run back to back under the same load on the machine. It can differ a little from the quotient
 * of the two paths' medians.
 */
interface Ratio {
  median: number;
  perRound: number[];
}

function ratio(
  measured: Record<Path, Measured>,
  [top, bottom]: [Path, Path],
  pick: (round: Round) => number,
): Ratio {
  const perRound = measured[top].rounds.map((round, i) => {
    const other = measured[bottom].rounds[i];
    return other ? pick(round) / pick(other) : Number.NaN;
  });
  return { median: median(perRound), perRound };
}

const times = (value: number) => `${value.toFixed(2)}x`;
const withRounds = (entry: Ratio) =>
  `${times(entry.median)} (rounds: ${entry.perRound.map(times).join('; ')})`;

/** A ratio's target: at least or at most this. */
type Target = { atLeast: number } | { atMost: number };

/**
 * The ratios the performance issue asks for, with its targets: [what, latency/connections,
 * paths, figure, target].
 */
const ISSUE_RATIOS: [string, string, [Path, Path], (round: Round) => number, Target?][] = [
  [
    'gateway/GraphQL Mesh requests/s, +0 ms upstream, 64 connections',
    '0/64',
    ['gateway', 'mesh'],
    (r) => r.requestsPerSecond,
    { atLeast: 1.5 },
  ],
  [
    'gateway/direct p50, +50 ms upstream, 16 connections',
    '50/16',
    ['gateway', 'direct'],
    (r) => r.p50,
    { atMost: 1.05 },
  ],
  [
    'gateway/direct requests/s, +50 ms upstream, 64 connections',
    '50/64',
    ['gateway', 'direct'],
    (r) => r.requestsPerSecond,
    { atLeast: 0.9 },
  ],
  [
    'gateway/direct CPU per request, +0 ms upstream, 16 connections',
    '0/16',
    ['gateway', 'direct'],
    (r) => r.cpuMsPerRequest,
    { atMost: 1.5 },
  ],
];

function judged(value: number, target: Target | undefined): { target?: string; met?: boolean } {
  if (!target) return {};
  return 'atLeast' in target
    ? { target: `>= ${target.atLeast}`, met: value >= target.atLeast }
    : { target: `<= ${target.atMost}`, met: value <= target.atMost };
}

/**
 * Where the floor lies: bare yoga against the direct path and Mesh, and the gateway against bare
 * yoga, at the cells of the issue's targets.
 */
const FLOOR_RATIOS: typeof ISSUE_RATIOS = [
  [
    'bare yoga/direct CPU per request, +0 ms upstream, 16 connections',
    '0/16',
    ['yoga', 'direct'],
    (r) => r.cpuMsPerRequest,
  ],
  [
    'gateway/bare yoga CPU per request, +0 ms upstream, 16 connections',
    '0/16',
    ['gateway', 'yoga'],
    (r) => r.cpuMsPerRequest,
  ],
  [
    'bare yoga/GraphQL Mesh requests/s, +0 ms upstream, 64 connections',
    '0/64',
    ['yoga', 'mesh'],
    (r) => r.requestsPerSecond,
  ],
  ['bare yoga/direct p50, +50 ms upstream, 16 connections', '50/16', ['yoga', 'direct'], (r) => r.p50],
  [
    'bare yoga/direct requests/s, +50 ms upstream, 64 connections',
    '50/64',
    ['yoga', 'direct'],
    (r) => r.requestsPerSecond,
  ],
];

/**
 * `vectorStore(id) { name }` through the gateway, the same SDK call made directly, and Mesh's
 * generated equivalent, at concurrency 1, 16 and 64, with the emulator adding each of
 * `latenciesMs` to every call.
 */
export async function overheadScenario(options: {
  quick: boolean;
  latenciesMs: number[];
}): Promise<ScenarioResult> {
  const timing: Timing = options.quick
    ? { roundSeconds: 1, rounds: MIN_ROUNDS, warmupSeconds: 0.25, initialWarmupSeconds: 1 }
    : { roundSeconds: 3, rounds: MIN_ROUNDS, warmupSeconds: 1, initialWarmupSeconds: 5 };
  const emulator = await startEmulatorProcess({ apiKey: API_KEY });
  const upstream = { baseURL: emulator.baseURL, apiKey: API_KEY };
  const started: ChildServer[] = [];
  const rows: string[][] = [];
  const headlines: Headline[] = [];
  const ratioRows: string[][] = [];
  const memoryRows: string[][] = [];
  try {
    const gateway = await startGatewayProcess({ name: 'overhead-gateway', upstream });
    started.push(gateway);
    const direct = await startChild({
      name: 'overhead-direct',
      entry: 'bench/direct-sdk.ts',
      env: { OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: emulator.baseURL },
      urlPattern: /listening at (\S+)/,
    });
    started.push(direct);
    const yoga = await startChild({
      name: 'overhead-yoga',
      entry: 'bench/bare-yoga.ts',
      env: { OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: emulator.baseURL },
      urlPattern: /listening at (\S+)/,
    });
    started.push(yoga);
    const mesh = await startMeshProcess({ name: 'overhead-mesh', upstream });
    started.push(mesh);

    const openai = new OpenAI({ apiKey: API_KEY, baseURL: emulator.baseURL });
    const { id: storeId } = await openai.vectorStores.create({ name: STORE_NAME });
    const targets: Targets = { emulator, gateway, direct, yoga, mesh, storeId };
    await emulator.setFaults({});
    await checkAnswers(targets);
    // At rest: started and one request answered (lazy set-up done), before any load.
    await sleep(1000);
    const atRest = Object.fromEntries(PATHS.map((path) => [path, processMemory(server(targets, path)).rss]));
    // JIT, pools and lazily loaded modules: the gateway needs a few thousand requests to settle.
    for (const path of PATHS) await drive(targets, path, 16, timing.initialWarmupSeconds);
    checkOneProcess(targets);

    const cells = new Map<string, Record<Path, Measured>>();
    for (const latencyMs of options.latenciesMs) {
      await emulator.setFaults(latencyMs > 0 ? { latencyMs } : {});
      for (const connections of CONCURRENCIES) {
        const measured = await measureAll(targets, connections, timing);
        cells.set(`${latencyMs}/${connections}`, measured);
        for (const path of PATHS) {
          const m = measured[path];
          const vsDirect = times(ratio(measured, [path, 'direct'], (r) => r.p50).median);
          console.log(
            `  +${latencyMs} ms, c${connections}, ${path}: ${m.requestsPerSecond.toFixed(0)}/s p50 ${ms(m.p50)} p99 ${ms(m.p99)} errors ${m.errors} cpu ${m.cpuMsPerRequest.toFixed(2)} ms/req calls/req ${m.callsPerRequest.toFixed(3)}`,
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
            m.callsPerRequest.toFixed(3),
            path === 'gateway' ? `**${vsDirect}**` : path === 'mesh' || path === 'yoga' ? vsDirect : '',
            m.rounds.map((round) => `${round.requestsPerSecond.toFixed(0)}/s ${ms(round.p50)}`).join('; '),
          ]);
        }
        // At +50 ms this ratio is one of the issue's, with its target, below.
        if (connections === 16 && latencyMs === 0) {
          const p50 = ratio(measured, ['gateway', 'direct'], (r) => r.p50);
          headlines.push({
            measure: `Overhead: gateway/direct p50 at concurrency 16, +${latencyMs} ms upstream`,
            value: `${withRounds(p50)}; medians ${ms(measured.gateway.p50)} vs ${ms(measured.direct.p50)}`,
          });
        }
      }
    }

    for (const path of PATHS) {
      const { rss, peakRss } = processMemory(server(targets, path));
      memoryRows.push([
        PATH_NAMES[path],
        PROCESS_NAMES[path],
        mib(atRest[path] ?? Number.NaN),
        mib(rss),
        mib(peakRss),
      ]);
    }
    for (const [measure, cell, paths, pick, target] of [...ISSUE_RATIOS, ...FLOOR_RATIOS]) {
      const measured = cells.get(cell);
      if (!measured) continue;
      const entry = ratio(measured, paths, pick);
      ratioRows.push([measure, `**${times(entry.median)}**`, entry.perRound.map(times).join('; ')]);
      headlines.push({
        measure: `Overhead: ${measure}`,
        value: withRounds(entry),
        ...(options.quick ? {} : judged(entry.median, target)),
      });
    }
  } finally {
    await Promise.all(started.map((child) => child.close()));
    await emulator.close();
  }
  return {
    scenario: 'Overhead: `vectorStore(id) { name }` through the gateway, directly, and through GraphQL Mesh',
    setup: [
      '**gateway**: `POST /graphql` with `query Overhead($id: ID!) { vectorStore(id: $id) { name } }` to the compiled `dist/server.js` (one SDK call, `GET /v1/vector_stores/{id}`, per request).',
      '**direct SDK**: `GET /vector_stores/{id}` to bench/direct-sdk.ts, a bare `node:http` server in its own process whose handler awaits `client.vectorStores.retrieve(id)` with a stock `openai` client and answers `{"name": ...}`: the same SDK call behind the same kind of HTTP hop, without GraphQL.',
      `**GraphQL Mesh**: \`POST /graphql\` with \`${MESH_QUERY}\` to Hive Gateway serving the supergraph that GraphQL Mesh composes from vendor/openai/openapi.vector-stores.json (${meshVersions()}; bench/peers/mesh, installed by the bench with \`npm ci --ignore-scripts\` into ~/.cache/vector-store-gateway/mesh-<hash of package.json and lock>, composed afresh each run). One process (\`--fork 1\`), otherwise the recipe's configuration and Hive Gateway's defaults, which write no log line per request. One \`GET /v1/vector_stores/{id}\` per request.`,
      "**bare yoga**: `POST /graphql` with the gateway's query to bench/bare-yoga.ts, graphql-yoga 5 as it comes (`createYoga` with its defaults and no plugin added) over a two-type schema whose resolver awaits the same stock `openai` client call: what yoga and graphql-js cost before any gateway does anything of its own, the floor under any yoga-based path (Hive Gateway included).",
      '**emulator alone**: autocannon straight at `GET /v1/vector_stores/{id}` of the emulator: the floor every path sits on.',
      `autocannon drives each path with the given number of connections, each sending its next request when its answer arrives. Per upstream latency and concurrency: ${timing.rounds} rounds, each one driving the five paths in turn (the first path rotates from round to round), each for ${timing.warmupSeconds} s unmeasured then ${timing.roundSeconds} s measured. Before any of it each path had ${timing.initialWarmupSeconds} s of load at 16 connections (JIT, pools). The emulator adds the latency to every /v1 call (\`latencyMs\` fault, no jitter).`,
      "Requests/s, p50, p99 and server CPU / request are the median of the rounds; the last column lists every round's requests/s and p50. p50 and p99 are exact percentiles of a round's 2xx answer latencies (autocannon per-response timings). Errors (all rounds): connection errors, timeouts, non-2xx, and answers without the store name or with `errors`. Server CPU / request: user + system CPU time of the serving process (emulator, direct server, gateway or Hive Gateway; /proc/PID/stat) over a measured window, divided by the requests answered in it (coarse at low rates: the kernel counts CPU time in 10 ms ticks, and idle background work is spread over few requests). Upstream calls / request: the emulator's request count across the path's measured windows (read once it stops moving) over the requests autocannon sent in them, the ones cut off at a window's end included. The p50 ratio is the path's p50 over the direct SDK's p50 in the same round, median of the rounds.",
      `The gateway runs with its defaults, among them at most ${UPSTREAM_CONCURRENCY} upstream calls in flight per credential (\`UPSTREAM_CONCURRENCY\`): at 64 connections the calls past ${UPSTREAM_CONCURRENCY} wait for a slot, where neither the direct path's stock SDK client nor Hive Gateway, as configured, limits them. With no added latency every path is CPU-bound on this 2-core machine, shared by autocannon, the server and the emulator.`,
      'Memory: VmRSS of each serving process (/proc/PID/status) at rest (started, one request answered, 1 s idle, before any load) and after the last measured round, and its peak (VmHWM) since it started.',
      'Ratios between paths are the median of the per-round ratios (the paths of one round run back to back); every round is listed.',
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
        'upstream calls / request',
        'p50 / direct p50',
        'rounds: requests/s p50',
      ],
      rows,
    },
    moreTables: [
      {
        title: 'Memory of each serving process',
        columns: ['path', 'process', 'RSS at rest', 'RSS after load', 'peak RSS'],
        rows: memoryRows,
      },
      {
        title: 'Ratios',
        columns: ['ratio', 'median of rounds', 'per round'],
        rows: ratioRows,
      },
    ],
    headlines,
  };
}
