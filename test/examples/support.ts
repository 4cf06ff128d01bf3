import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestGateway } from '../support/gateway.ts';

/**
 * The examples are packages of their own (apollo-upload-client asks for Node 22, relay-compiler
 * brings a native binary), installed apart from the gateway. Each is installed once per checkout:
 * `npm ci` again only when its lockfile changed, so CI's three Node versions pay for it once.
 */

const run = promisify(execFile);

export const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

/** Generous: a cold `npm ci` of an example takes 10-40 s; a warm check takes none. */
export const INSTALL_TIMEOUT_MS = 300_000;

export function exampleDir(name: string): string {
  return `${EXAMPLES}${name}`;
}

export async function installExample(name: string): Promise<string> {
  const dir = exampleDir(name);
  const lock = createHash('sha256')
    .update(readFileSync(`${dir}/package-lock.json`))
    .digest('hex');
  const stamp = `${dir}/node_modules/.installed-lockfile-sha256`;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === lock) return dir;
  // npm, run from `npm test`, inherits npm_config_* of the gateway's run: a clean environment
  // keeps the example's install its own.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  await run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    env,
    timeout: INSTALL_TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
  writeFileSync(stamp, lock);
  return dir;
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs this Node in an example's directory, and reports how it ended rather than throwing. */
export async function runNode(
  dir: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<Ran> {
  try {
    const options = { cwd: dir, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 };
    const { stdout, stderr } = await run(process.execPath, args, options);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | null; stdout?: string; stderr?: string };
    return { code: failed.code ?? null, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/**
 * Runs a TypeScript file of an example with its own tsx, under the `development` export
 * condition as a dev server would: Apollo Client's cache warnings exist only there.
 */
export function runExample(dir: string, script: string, env: Record<string, string>): Promise<Ran> {
  return runNode(dir, ['--conditions=development', '--import', 'tsx', script], env);
}

/** The last line of a run's output, parsed: the summary each example prints. */
export function summaryOf<T>(ran: Ran): T {
  const last = ran.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`No summary (exit ${ran.code}):\n${ran.stdout}\n${ran.stderr}`);
  }
}

/**
 * Lets the emulator's held files finish once a subscription's poller has read `route` while they
 * were held (and `graceMs` more, for watches that join it): each watch sees them in progress,
 * then done, however slowly the example started. Files held past their time finish on release.
 */
export async function releaseProcessingOnceWatched(
  gateway: TestGateway,
  route: string,
  graceMs: number,
): Promise<void> {
  const reads = () => gateway.emulator.stats().byRoute[route] ?? 0;
  const deadline = Date.now() + 60_000;
  while (gateway.app.live.size === 0 && Date.now() < deadline) await sleep(20);
  const before = reads();
  while (reads() === before && Date.now() < deadline) await sleep(20);
  await sleep(graceMs);
  gateway.emulator.setProcessing({ hold: false });
}
