/** `npm run emulator` as a new user would run it: starts, prints its URL, serves the SDK, stops. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

const running = new Set<ChildProcess>();

/**
 * Runs in its own process group, signalled as a whole like a terminal does on Ctrl-C: npm does not
 * reliably pass a signal sent to it alone down to the script it runs.
 */
function runEmulator(env: Record<string, string>): ChildProcess {
  const child = spawn('npm', ['run', '--silent', 'emulator'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // The group is already gone.
  }
}

afterEach(() => {
  for (const child of running) signalGroup(child, 'SIGKILL');
});

function output(stream: NodeJS.ReadableStream | null): { text: () => string } {
  let text = '';
  stream?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return { text: () => text };
}

async function waitFor(read: () => string, pattern: RegExp, child: ChildProcess): Promise<RegExpMatchArray> {
  for (let i = 0; i < 300; i += 1) {
    const match = read().match(pattern);
    if (match) return match;
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`No match for ${pattern} in: ${read()}`);
}

describe('npm run emulator', () => {
  it('prints its base URL, answers the SDK and exits cleanly on SIGTERM', async () => {
    const child = runEmulator({
      EMULATOR_PORT: '0',
      EMULATOR_API_KEYS: 'sk-one,sk-two',
      EMULATOR_SDK_FIXTURES: '1',
      EMULATOR_POLL_AFTER_MS: '25',
    });
    const stdout = output(child.stdout);
    const [, baseURL] = await waitFor(
      stdout.text,
      /OpenAI emulator listening at (http:\/\/127\.0\.0\.1:\d+\/v1)\n/,
      child,
    );
    const client = new OpenAI({ apiKey: 'sk-two', baseURL, maxRetries: 0 });
    const store = await client.vectorStores.create({ name: 'cli' });
    expect((await client.vectorStores.retrieve(store.id)).name).toBe('cli');
    expect((await client.uploads.cancel('upload_abc123')).status).toBe('cancelled');
    const file = await client.files.create({ file: new File(['x'], 'x.txt'), purpose: 'assistants' });
    const attached = await client.vectorStores.files.create(store.id, { file_id: file.id }).withResponse();
    expect(attached.response.headers.get('openai-poll-after-ms')).toBe('25');
    const stranger = new OpenAI({ apiKey: 'sk-three', baseURL, maxRetries: 0 });
    await expect(stranger.vectorStores.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);

    const exited = once(child, 'exit');
    signalGroup(child, 'SIGTERM');
    await exited;
    // The emulator process itself is gone once its port refuses connections.
    let refused = false;
    for (let i = 0; i < 100 && !refused; i += 1) {
      refused = await fetch(`${baseURL}/vector_stores`).then(
        () => false,
        () => true,
      );
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(refused).toBe(true);
  });

  it('rejects an invalid setting with one line and exit code 1', async () => {
    const child = runEmulator({ EMULATOR_PORT: 'not-a-port' });
    const stderr = output(child.stderr);
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    const lines = stderr
      .text()
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('npm warn'));
    expect(lines).toEqual(["emulator: EMULATOR_PORT must be an integer from 0 to 65535, got 'not-a-port'."]);
  });

  it('rejects an invalid fixtures flag the same way', async () => {
    const child = runEmulator({ EMULATOR_PORT: '0', EMULATOR_SDK_FIXTURES: 'yes' });
    const stderr = output(child.stderr);
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr.text()).toContain("emulator: EMULATOR_SDK_FIXTURES must be '1' or '0', got 'yes'.");
  });
});
