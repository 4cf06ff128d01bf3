import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

/** `src/server.ts` as a process of its own, with these settings on top of the test's environment. */
export async function startServer(settings: Record<string, string>): Promise<{
  url: string;
  pid: number;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...settings };
  if (!settings.OPENAI_API_KEY) delete env.OPENAI_API_KEY;
  delete env.GATEWAY_CONFIG;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const started = Date.now();
  while (!/GraphiQL: (http:\S+)/.test(output)) {
    if (Date.now() - started > 30_000 || child.exitCode !== null) {
      // Not left running when it was slow rather than failed.
      child.kill('SIGKILL');
      throw new Error(`did not start:\n${output}`);
    }
    await sleep(50);
  }
  return {
    url: /GraphiQL: (http:\S+)/.exec(output)![1]!,
    pid: child.pid!,
    output: () => output,
    async stop(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}
