import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AppOptions, createApp } from '../src/app.ts';

export interface ScenarioResult {
  scenario: string;
  /** Rows of the BENCHMARKS.md table: what was measured, the figure, and how. */
  rows: Array<{ measure: string; value: string; method: string }>;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function listenGateway(options: AppOptions): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(createApp(options).handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function postGraphQL(url: string, query: string): Promise<{ errors?: unknown[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { errors?: unknown[] };
}

/**
 * The emulator in a child process, so the files it keeps in memory are not counted in this
 * process's memory figures.
 */
export async function startEmulatorProcess(options: {
  apiKey: string;
  maxStoredBytes: number;
}): Promise<{ baseURL: string; close(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/emulator/main.ts'], {
    cwd: new URL('..', import.meta.url),
    env: {
      ...process.env,
      EMULATOR_PORT: '0',
      EMULATOR_API_KEYS: options.apiKey,
      EMULATOR_MAX_STORED_BYTES: String(options.maxStoredBytes),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const close = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  const stdout = child.stdout;
  if (!stdout) throw new Error('emulator child has no stdout');
  let output = '';
  for await (const chunk of stdout) {
    output += String(chunk);
    const match = /listening at (\S+)/.exec(output);
    if (match?.[1]) {
      // Keep draining so a chatty child never blocks on a full pipe.
      stdout.resume();
      return { baseURL: match[1], close };
    }
  }
  throw new Error(`emulator exited before listening: ${output}`);
}
