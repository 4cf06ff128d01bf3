import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dashboardScenario } from './dashboard.ts';
import type { ScenarioResult } from './support.ts';
import { uploadScenario } from './upload.ts';

/**
 * `npm run bench [-- --quick] [-- scenario...]`: runs the scenarios against the emulator and
 * rewrites BENCHMARKS.md with the machine, the date and every figure with how it was measured.
 */
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const wanted = new Set(args.filter((arg) => !arg.startsWith('--')));

const scenarios: Record<string, () => Promise<ScenarioResult[]>> = {
  dashboard: async () => [
    await dashboardScenario({ latencyMs: 0, runs: quick ? 3 : 15 }),
    await dashboardScenario({ latencyMs: 50, runs: quick ? 3 : 15 }),
  ],
  upload: async () => [await uploadScenario({ quick })],
};

const results: ScenarioResult[] = [];
for (const [name, run] of Object.entries(scenarios)) {
  if (wanted.size > 0 && !wanted.has(name)) continue;
  console.log(`running ${name}...`);
  for (const result of await run()) {
    results.push(result);
    console.table(result.rows);
  }
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  '# Benchmarks',
  '',
  `Measured by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} x ${cpu}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. One run; these machines are noisy, so compare the ratios ` +
    'within a run rather than absolute figures across runs.',
  '',
];
for (const result of results) {
  lines.push(`## ${result.scenario}`, '', '| measure | value | how |', '| --- | --- | --- |');
  for (const row of result.rows) lines.push(`| ${row.measure} | ${row.value} | ${row.method} |`);
  lines.push('');
}
if (wanted.size === 0) {
  writeFileSync(new URL('../BENCHMARKS.md', import.meta.url), lines.join('\n'));
  console.log('Wrote BENCHMARKS.md');
} else {
  console.log(lines.join('\n'));
}
