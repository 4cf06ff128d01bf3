import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import {
  childPids,
  type Headline,
  mib,
  postGraphQL,
  processMemory,
  type ScenarioResult,
  sleep,
  startCommand,
  startEmulatorProcess,
} from './support.ts';

const API_KEY = 'bench-key';
/** The target for the gateway's resident memory at rest. */
const TARGET_MIB = 100;
/** How long after its first answer the gateway is left idle before it is measured. */
const IDLE_SECONDS = 10;
const START_TIMEOUT_MS = 120_000;

/** Every process under `pid`, its own included, depth first. */
function processTree(pid: number): number[] {
  return [pid, ...childPids(pid).flatMap(processTree)];
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '(ended)';
  }
}

/**
 * The gateway at rest as an operator starts it: `npm start` (which builds dist/ when stale, then
 * runs the compiled server) against an upstream of its own (an emulator started apart, so no
 * embedded one), one GraphQL answer, then idle. Measured: the VmRSS of every process `npm start`
 * started (the shell and the server), npm itself excluded.
 */
export async function restScenario(options: { quick: boolean }): Promise<ScenarioResult> {
  const idleSeconds = options.quick ? 2 : IDLE_SECONDS;
  const { nodeArgs, entry } = startCommand();
  const emulator = await startEmulatorProcess({ apiKey: API_KEY });
  const npm = spawn('npm', ['start'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      OPENAI_API_KEY: API_KEY,
      OPENAI_BASE_URL: emulator.baseURL,
      PORT: '0',
      HOST: '127.0.0.1',
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(npm, 'exit');
  let output = '';
  npm.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const rows: string[][] = [];
  const headlines: Headline[] = [];
  try {
    const started = Date.now();
    let url = /GraphiQL: (\S+)/.exec(output)?.[1];
    while (url === undefined) {
      if (npm.exitCode !== null || Date.now() - started > START_TIMEOUT_MS) {
        throw new Error(`npm start did not start:\n${output.slice(0, 2000)}`);
      }
      await sleep(100);
      url = /GraphiQL: (\S+)/.exec(output)?.[1];
    }
    const answer = await postGraphQL(url, '{ vectorStores(first: 1) { nodes { id } } }');
    if (answer.errors) throw new Error(`the gateway answered ${JSON.stringify(answer)}`);
    await sleep(idleSeconds * 1000);
    const npmPid = npm.pid ?? Number.NaN;
    let total = 0;
    for (const pid of processTree(npmPid).slice(1)) {
      const { rss } = processMemory(pid);
      total += rss;
      rows.push([String(pid), commandOf(pid), mib(rss)]);
    }
    rows.push(['', '**all of them**', `**${mib(total)}**`]);
    headlines.push({
      measure: `Gateway RSS at rest (npm start, ${idleSeconds} s after its first answer)`,
      value: mib(total),
      ...(options.quick ? {} : { target: `< ${TARGET_MIB} MiB`, met: total < TARGET_MIB * 2 ** 20 }),
    });
  } finally {
    if (npm.exitCode === null && npm.pid !== undefined) process.kill(-npm.pid, 'SIGTERM');
    await exited;
    await emulator.close();
  }
  return {
    scenario: 'Memory at rest: the gateway as `npm start` runs it',
    setup: [
      `\`npm start\` in the repository (its prestart compiles dist/ when stale; then \`node ${[...nodeArgs, entry].join(' ')}\`), with only \`OPENAI_API_KEY\` and \`OPENAI_BASE_URL\` (an emulator started apart, so the gateway starts no embedded one and seeds no demo data), \`PORT=0\` and \`HOST\`.`,
      `Once it listens, one GraphQL query (\`vectorStores(first: 1)\`, one upstream call); then ${idleSeconds} s idle; then the VmRSS (/proc/PID/status) of every process under npm, npm itself excluded: the shell npm runs the script in, and the server.`,
    ],
    table: { columns: ['pid', 'process', 'RSS'], rows },
    headlines,
  };
}
