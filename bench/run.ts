import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dashboardScenario } from './dashboard.ts';
import { FAIR_RULES, overheadScenario } from './overhead.ts';
import { partedUploadScenario } from './parted-upload.ts';
import { restScenario } from './rest.ts';
import { soakScenario } from './soak.ts';
import { subscriptionsScenario } from './subscriptions.ts';
import { removeBenchDir, type ScenarioResult, startNoiseMeter } from './support.ts';
import { uploadScenario } from './upload.ts';

/**
 * `npm run bench`: every scenario against the emulator, then BENCHMARKS.md rewritten with the
 * machine, the date, every figure with how it was measured, and a closing summary.
 *
 *   npm run bench                    all scenarios (about 10 minutes), rewrites BENCHMARKS.md
 *   npm run bench -- --quick         each scenario for a few seconds: a smoke check; prints only
 *   npm run bench -- soak overhead   only these scenarios; prints only
 *   npm run bench -- subscriptions   500 live-status streams beside a query (about 3 minutes)
 *   npm run bench -- parted          one 600 MiB createFiles through the Uploads API
 *   npm run bench -- rest            the gateway's memory at rest, as `npm start` runs it
 *
 * Only a full run writes BENCHMARKS.md, so the file always holds one complete run.
 */
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const wanted = args.filter((arg) => !arg.startsWith('--'));
const LATENCIES_MS = [50, 0];

const scenarios: Record<string, () => Promise<ScenarioResult[]>> = {
  rest: async () => [await restScenario({ quick })],
  overhead: async () => [await overheadScenario({ quick, latenciesMs: LATENCIES_MS })],
  dashboard: async () => [await dashboardScenario({ quick, latenciesMs: LATENCIES_MS })],
  upload: async () => [await uploadScenario({ quick })],
  parted: async () => [await partedUploadScenario({ quick })],
  subscriptions: async () => [await subscriptionsScenario({ quick })],
  soak: async () => [await soakScenario({ quick })],
};
const unknown = wanted.filter((name) => !(name in scenarios));
if (unknown.length > 0) {
  console.error(`Unknown scenario ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}

const started = new Date();
const results: ScenarioResult[] = [];
try {
  for (const [name, run] of Object.entries(scenarios)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    console.log(`running ${name}${quick ? ' (quick)' : ''}...`);
    const noise = startNoiseMeter();
    const scenarioResults = await run();
    const { otherCpuSeconds, seconds } = noise();
    const other = `Other processes on the machine used ${otherCpuSeconds.toFixed(1)} CPU-seconds while this scenario ran (${seconds.toFixed(0)} s), ${((100 * otherCpuSeconds) / seconds).toFixed(0)}% of one core on average (from /proc/stat, less the bench's own processes).`;
    for (const result of scenarioResults) result.setup.push(other);
    results.push(...scenarioResults);
    console.log(`  ${name} took ${seconds.toFixed(0)} s; ${other}`);
  }
} finally {
  removeBenchDir();
}
const minutes = (Date.now() - started.getTime()) / 60_000;

function gitRevision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head} with uncommitted changes` : head;
  } catch {
    return 'unknown revision';
  }
}

const autocannonVersion = (
  JSON.parse(readFileSync(new URL('../node_modules/autocannon/package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
const command = `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

const lines = [
  '# Benchmarks',
  '',
  `Written by \`${command}\` (bench/run.ts) on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, in ${minutes.toFixed(1)} minutes, at ${gitRevision()}.`,
  '',
  `- **Machine**: ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}.`,
  `- **Software**: Node ${process.version}, autocannon ${autocannonVersion}.`,
  '- **Noise**: one run on a shared 2-core machine. Compare figures within a run (the ratios), not absolute figures across runs.',
  '',
  '## Topology',
  '',
  'Four kinds of process, none sharing an event loop with another:',
  '',
  '- **bench** (bench/run.ts): the load generator (autocannon, run programmatically) or the upload client, and the measurements taken from outside the other processes (/proc/PID/status, /proc/PID/stat, the emulator stats). Nothing it does is counted as gateway time or memory.',
  "- **gateway**: the compiled `dist/server.js` as `npm start` runs it (package.json's start script, Node flags included, after its prestart build; its only settings `OPENAI_API_KEY` and `OPENAI_BASE_URL`, pointing at the emulator, so it starts no embedded emulator; `PORT=0`; every other setting at its default, logs at info, one JSON line per request, into a file), started with `--expose-gc` and a preload (bench/gateway-probe.mjs) that only answers the bench's IPC request for a full GC and `process.memoryUsage()`. The dashboard uses bench/dashboard-gateway.ts instead (through tsx), which can switch the loaders off. The overhead scenario's direct path is a third kind of server (bench/direct-sdk.ts).",
  '- **emulator**: `src/emulator/main.ts` (port 0, file processing at once), steered through its control plane (`POST /__emulator/faults` for added latency, `GET /__emulator/stats` for upstream call counts).',
  '- **GraphQL Mesh** (overhead scenario only): Hive Gateway serving a supergraph GraphQL Mesh composed from the vendored OpenAPI file, as the recipe in bench/peers/mesh sets it up, one process (`--fork 1`). Its packages are installed by the bench into ~/.cache/vector-store-gateway, never into the repository.',
  '',
  'All traffic stays on 127.0.0.1. The gateway runs compiled JavaScript, as `npm start` does; the emulator, the direct-SDK server and the dashboard gateway run their TypeScript through tsx; Hive Gateway runs its published JavaScript with plain `node` and loads its own TypeScript config.',
  '',
  '## Method: fair rules for comparing paths',
  '',
  ...FAIR_RULES.map((rule) => `- ${rule}`),
  '',
];
for (const result of results) {
  lines.push(`## ${result.scenario}`, '');
  for (const line of result.setup) lines.push(`- ${line}`);
  lines.push(
    '',
    `| ${result.table.columns.map(cell).join(' | ')} |`,
    `|${' --- |'.repeat(result.table.columns.length)}`,
  );
  for (const row of result.table.rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  lines.push('');
  for (const table of result.moreTables ?? []) {
    lines.push(`**${table.title}**`, '', `| ${table.columns.map(cell).join(' | ')} |`);
    lines.push(`|${' --- |'.repeat(table.columns.length)}`);
    for (const row of table.rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
    lines.push('');
  }
}
const headlines = results.flatMap((result) => result.headlines);
lines.push('## Summary', '', '| figure | value | target |', '| --- | --- | --- |');
for (const headline of headlines) {
  const target = headline.target ? `${headline.target}: ${headline.met ? 'met' : '**missed**'}` : '';
  lines.push(`| ${cell(headline.measure)} | ${cell(headline.value)} | ${cell(target)} |`);
}
lines.push('');
const markdown = lines.join('\n');

if (wanted.length === 0 && !quick) {
  writeFileSync(new URL('../BENCHMARKS.md', import.meta.url), markdown);
  console.log(`\n${markdown}\nWrote BENCHMARKS.md`);
} else {
  console.log(`\n${markdown}\n(not written to BENCHMARKS.md: only a full run is)`);
}
