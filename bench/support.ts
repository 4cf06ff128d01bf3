import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

/** One section of BENCHMARKS.md. */
export interface ScenarioResult {
  /** The section heading. */
  scenario: string;
  /** Bullet lines above the table: the setup and how each figure was measured. */
  setup: string[];
  table: { columns: string[]; rows: string[][] };
  /** Further tables under the first, each after a line of its own. */
  moreTables?: { title: string; columns: string[]; rows: string[][] }[];
  /** The figures the closing summary quotes, with their targets where the issue sets one. */
  headlines: Headline[];
}

export interface Headline {
  measure: string;
  value: string;
  target?: string;
  met?: boolean;
}

export const MiB = 1024 * 1024;
const ROOT = new URL('..', import.meta.url);

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Logs and other files of one bench run, removed when it ends. */
let workDir: string | undefined;
export function benchDir(): string {
  workDir ??= mkdtempSync(join(tmpdir(), 'vsg-bench-'));
  return workDir;
}
export function removeBenchDir(): void {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

/** Memory of another process as the kernel counts it: current and peak resident set, in bytes. */
export function processMemory(pid: number): { rss: number; peakRss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kib('VmRSS') * 1024, peakRss: kib('VmHWM') * 1024 };
}

/** User + system CPU time of another process so far, in seconds. */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * The processes whose parent is `pid`, from every /proc/PID/stat (the kernel's per-task
 * `children` lists need CONFIG_PROC_CHILDREN, which not every kernel has).
 */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The name in parentheses may itself hold ") ", so the fields start after the last one.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      if (Number(fields[1]) === pid) children.push(Number(entry));
    } catch {
      // Ended while we looked.
    }
  }
  return children;
}

/** CPU time all cores of the machine spent busy so far (steal included), from /proc/stat. */
function machineBusySeconds(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** CPU time of this process, its children that ended, and its children still running. */
function benchCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  let seconds = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
  for (const child of running) {
    try {
      if (child.pid !== undefined) seconds += processCpuSeconds(child.pid);
    } catch {
      // Ended between the two reads: now in the ended children's share.
    }
  }
  return seconds;
}

/**
 * Measures how busy the rest of the machine was meanwhile: CPU time spent by processes other than
 * the bench and its children, a gauge of how much noise a figure carries.
 */
export function startNoiseMeter(): () => { otherCpuSeconds: number; seconds: number } {
  const started = performance.now();
  const machine = machineBusySeconds();
  const own = benchCpuSeconds();
  return () => ({
    otherCpuSeconds: Math.max(0, machineBusySeconds() - machine - (benchCpuSeconds() - own)),
    seconds: (performance.now() - started) / 1000,
  });
}

/**
 * Restarts the kernel's peak-RSS counter (VmHWM) of a process, so the next `peakRss` is the peak
 * since now, without sampling. Linux 4.0+; false where it is refused.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Every child still running, killed if the bench itself dies, so none is left behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ChildServer {
  url: string;
  pid: number;
  /** Where the child's stdout (its logs) goes. */
  logFile: string;
  /** The child's own `process.memoryUsage()` after a full GC (through bench/gateway-probe.mjs). */
  heapAfterGc(): Promise<NodeJS.MemoryUsage>;
  close(): Promise<void>;
}

/**
 * Starts an entry in its own Node process, its stdout in a log file, and waits for the line that
 * names its URL. A TypeScript entry runs through tsx; a JavaScript one (the compiled gateway) as
 * it is. `probe` preloads bench/gateway-probe.mjs (IPC answers for memory). `plainArgs` runs a
 * JavaScript entry (a peer's CLI) as it comes instead: no probe, these arguments after it.
 */
export async function startChild(options: {
  name: string;
  entry: string;
  env: Record<string, string>;
  urlPattern: RegExp;
  probe?: boolean;
  inheritEnv?: boolean;
  /** More Node flags, e.g. `--cpu-prof` (which NODE_OPTIONS does not take). */
  nodeArgs?: string[];
  /** Run `entry` as plain JavaScript with these arguments after it. */
  plainArgs?: string[];
  /** Working directory, by default the repository root. */
  cwd?: string;
  /** How long to wait for the URL line, by default 30 s. */
  startTimeoutMs?: number;
}): Promise<ChildServer> {
  const logFile = join(benchDir(), `${options.name}.log`);
  const out = openSync(logFile, 'w');
  const args = options.plainArgs
    ? [...(options.nodeArgs ?? []), options.entry, ...options.plainArgs]
    : [
        ...(options.nodeArgs ?? []),
        ...(options.probe ? ['--expose-gc', '--import', './bench/gateway-probe.mjs'] : []),
        ...(options.entry.endsWith('.ts') ? ['--import', 'tsx'] : []),
        options.entry,
      ];
  // The gateway gets only what it is given: an OPENAI_API_KEY or GATEWAY_CONFIG in the caller's
  // shell must not change what is measured.
  const base: NodeJS.ProcessEnv = options.inheritEnv
    ? process.env
    : { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR };
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...base, ...options.env },
    stdio: ['ignore', out, 'inherit', ...(options.probe ? (['ipc'] as const) : [])],
  });
  const exited = once(child, 'exit');
  running.add(child);
  void exited.then(() => running.delete(child));
  let url: string | undefined;
  for (let waited = 0; url === undefined; waited += 50) {
    if (child.exitCode !== null || waited > (options.startTimeoutMs ?? 30_000)) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} did not start: ${readFileSync(logFile, 'utf8').slice(0, 2000)}`);
    }
    await sleep(50);
    url = options.urlPattern.exec(readFileSync(logFile, 'utf8'))?.[1];
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name} has no pid`);
  return {
    url,
    pid,
    logFile,
    async heapAfterGc() {
      if (!child.send) throw new Error(`${options.name} was started without the probe`);
      const answer = once(child, 'message') as Promise<[{ memory: NodeJS.MemoryUsage }]>;
      child.send('memory');
      return (await answer)[0].memory;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface EmulatorProcess extends ChildServer {
  /** `http://127.0.0.1:PORT/v1`, for the SDK. */
  baseURL: string;
  setFaults(faults: Record<string, unknown>): Promise<void>;
  /** Requests the emulator has served on /v1 since it started (the control plane is not counted). */
  requestCount(): Promise<number>;
  /** The same, by route (e.g. `POST /v1/uploads/{upload_id}/parts`). */
  requestsByRoute(): Promise<Record<string, number>>;
}

/**
 * The emulator in a child process, so neither its CPU nor the files it keeps in memory count
 * against the gateway or the load generator.
 */
export async function startEmulatorProcess(options: {
  apiKey: string;
  maxStoredBytes?: number;
  processingDelayMs?: number;
}): Promise<EmulatorProcess> {
  const child = await startChild({
    name: 'emulator',
    entry: 'src/emulator/main.ts',
    env: {
      EMULATOR_PORT: '0',
      EMULATOR_API_KEYS: options.apiKey,
      EMULATOR_MAX_STORED_BYTES: String(options.maxStoredBytes ?? 1024 ** 3),
      EMULATOR_PROCESSING_DELAY_MS: String(options.processingDelayMs ?? 0),
    },
    urlPattern: /listening at (\S+)/,
  });
  const control = new URL('/__emulator/', child.url);
  return {
    ...child,
    baseURL: child.url,
    async setFaults(faults) {
      const response = await fetch(new URL('faults', control), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(faults),
      });
      if (!response.ok) throw new Error(`emulator refused faults: ${await response.text()}`);
    },
    async requestCount() {
      const response = await fetch(new URL('stats', control));
      return ((await response.json()) as { total: number }).total;
    },
    async requestsByRoute() {
      const response = await fetch(new URL('stats', control));
      return ((await response.json()) as { byRoute: Record<string, number> }).byRoute;
    },
  };
}

/**
 * How `npm start` runs the gateway: its start script (`node [flags] dist/server.js`), split into
 * Node's flags and the entry, after the build its prestart makes (scripts/build.mjs, which only
 * compiles when dist/ is missing or stale). Read from package.json, so the bench runs what ships.
 */
let started: { nodeArgs: string[]; entry: string } | undefined;
export function startCommand(): { nodeArgs: string[]; entry: string } {
  if (started) return started;
  const { scripts } = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const [node, ...rest] = (scripts.start ?? '').trim().split(/\s+/);
  const entry = rest.pop();
  if (node !== 'node' || !entry || rest.some((arg) => !arg.startsWith('--'))) {
    throw new Error(`npm start is not 'node [flags] <entry>' any more: ${scripts.start}`);
  }
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
  started = { nodeArgs: rest, entry };
  return started;
}

/**
 * The gateway as it is deployed: the compiled `dist/server.js` as `npm start` runs it (its Node
 * flags included), in its own process, configured only by the environment (OPENAI_API_KEY and
 * OPENAI_BASE_URL point it at the emulator, so it starts no embedded emulator and seeds no demo
 * data), logging at its default level (info, one JSON line per request) into a file. `entry`
 * swaps in another entry, run through tsx (the dashboard's loaders-off gateway).
 */
export async function startGatewayProcess(options: {
  name: string;
  upstream: { baseURL: string; apiKey: string };
  env?: Record<string, string>;
  entry?: string;
  nodeArgs?: string[];
}): Promise<ChildServer> {
  const shipped = options.entry ? undefined : startCommand();
  return startChild({
    nodeArgs: [...(shipped?.nodeArgs ?? []), ...(options.nodeArgs ?? [])],
    name: options.name,
    entry: options.entry ?? shipped?.entry ?? '',
    env: {
      OPENAI_API_KEY: options.upstream.apiKey,
      OPENAI_BASE_URL: options.upstream.baseURL,
      PORT: '0',
      HOST: '127.0.0.1',
      ...options.env,
    },
    urlPattern: /GraphQL endpoint and GraphiQL: (\S+)/,
    probe: true,
  });
}

// ---------------------------------------------------------------------------------------------
// Uploads
// ---------------------------------------------------------------------------------------------

const BOUNDARY = '----bench-upload-boundary';
/** One reused chunk: the client adds no garbage of its own to the figures. */
const CHUNK = Buffer.alloc(64 * 1024, 'bench upload bytes, not text for search.\n');

/** The bytes `postGeneratedFile` sends for a file of `bytes`, one chunk at a time. */
export function* generatedBytes(bytes: number): Generator<Buffer> {
  for (let sent = 0; sent < bytes; sent += CHUNK.length) {
    yield bytes - sent >= CHUNK.length ? CHUNK : CHUNK.subarray(0, bytes - sent);
  }
}

/**
 * One GraphQL multipart request whose variables get one file at `variables.input.files.0`, of
 * `bytes` generated on the fly, written as fast as the socket takes it; resolves with the answer's
 * text.
 */
export async function postGeneratedFile(
  url: string,
  operation: { query: string; variables: { input: Record<string, unknown> } },
  name: string,
  bytes: number,
): Promise<string> {
  const target = new URL(url);
  const req = request({
    host: target.hostname,
    port: target.port,
    path: target.pathname,
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'apollo-require-preflight': 'true',
    },
  });
  const answered = once(req, 'response') as Promise<[IncomingMessage]>;
  const operations = JSON.stringify({
    query: operation.query,
    variables: { ...operation.variables, input: { ...operation.variables.input, files: [null] } },
  });
  req.write(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.input.files.0"]}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="${name}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  for (const chunk of generatedBytes(bytes)) {
    if (!req.write(chunk)) await once(req, 'drain');
  }
  req.end(`\r\n--${BOUNDARY}--\r\n`);
  const [response] = await answered;
  let text = '';
  for await (const part of response) text += String(part);
  return text;
}

export interface MeasuredPeak {
  seconds: number;
  /** The process's highest RSS during the work. */
  peakRss: number;
  /** How: the kernel's own peak counter, or 20 ms samples where it cannot be reset. */
  peakFrom: 'VmHWM' | 'samples';
}

/** Runs `work` while watching another process's resident memory from outside it. */
export async function measurePeakRss(
  process: ChildServer,
  work: () => Promise<unknown>,
): Promise<MeasuredPeak> {
  const kernelPeak = resetPeakRss(process.pid);
  let sampled = processMemory(process.pid).rss;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, processMemory(process.pid).rss);
  }, 20);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  const { rss, peakRss } = processMemory(process.pid);
  sampled = Math.max(sampled, rss);
  // The kernel's counter sees every page, where samples can miss a short spike.
  return kernelPeak
    ? { seconds, peakRss: Math.max(peakRss, sampled), peakFrom: 'VmHWM' }
    : { seconds, peakRss: sampled, peakFrom: 'samples' };
}

/** How `measurePeakRss` measured, in words for BENCHMARKS.md. */
export function peakHow(measured: MeasuredPeak, process = 'gateway'): string {
  return measured.peakFrom === 'VmHWM'
    ? `the kernel's peak RSS of the ${process} process (\`VmHWM\` in /proc/PID/status, reset through /proc/PID/clear_refs just before), minus the baseline`
    : `highest RSS of the ${process} process sampled every 20 ms from /proc/PID/status, minus the baseline`;
}

export async function postGraphQL(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ data?: unknown; errors?: unknown[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: unknown; errors?: unknown[] };
}

// ---------------------------------------------------------------------------------------------
// Load generation
// ---------------------------------------------------------------------------------------------

export interface LoadResult {
  /** Responses per second over the measured window. */
  requestsPerSecond: number;
  responses: number;
  /** Requests written, answered or not: the ones in flight when the run stops are cut off. */
  requestsSent: number;
  /** Every 2xx response's own latency (ms), for pooling several runs. */
  latencies: number[];
  /** Exact percentiles of the 2xx responses' latencies (ms), from every response's own timing. */
  p50: number;
  p99: number;
  /** Connection errors and timeouts, non-2xx answers, and 2xx answers `verify` refused. */
  errors: number;
  non2xx: number;
  mismatches: number;
  durationSeconds: number;
}

/**
 * One autocannon run. Latencies are taken from autocannon's per-response event (sub-millisecond
 * timings), since its own histogram rounds to whole milliseconds. A warm-up run, not counted, goes
 * first when `warmupSeconds` is set.
 */
export async function load(options: {
  url: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds?: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  requests?: autocannon.Request[];
  /** Fixed total rate (requests/s across all connections), else as fast as answers come. */
  overallRate?: number;
  verify?: (body: string) => boolean;
  onSecond?: (elapsedSeconds: number) => void;
}): Promise<LoadResult> {
  const verify = options.verify;
  const base: autocannon.Options = {
    url: options.url,
    connections: options.connections,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    timeout: 30,
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(options.requests ? { requests: options.requests } : {}),
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    ...(verify ? { verifyBody: (body: string | Buffer | undefined) => verify(String(body ?? '')) } : {}),
  };
  if (options.warmupSeconds) await run({ ...base, duration: options.warmupSeconds });
  const latencies: number[] = [];
  const started = performance.now();
  const ticker = options.onSecond
    ? setInterval(() => options.onSecond?.((performance.now() - started) / 1000), 1000)
    : undefined;
  const result = await run({ ...base, duration: options.durationSeconds }, (instance) => {
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
  if (ticker) clearInterval(ticker);
  const seconds = result.duration;
  return {
    requestsPerSecond: (result.requests.total ?? latencies.length) / seconds,
    responses: result.requests.total,
    requestsSent: result.requests.sent,
    latencies,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors: result.errors + result.non2xx + result.mismatches,
    non2xx: result.non2xx,
    mismatches: result.mismatches,
    durationSeconds: seconds,
  };
}

function run(
  options: autocannon.Options,
  watch?: (instance: autocannon.Instance) => void,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
    watch?.(instance);
  });
}

export const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
export const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
