import OpenAI from 'openai';
import { afterEach } from 'vitest';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';
import { IN_PROCESS_ORIGIN, inProcessFetch } from '../support/in-process.ts';

export interface Harness {
  emulator: Emulator;
  baseURL: string;
  origin: string;
  client: OpenAI;
  /** Raw fetch against the emulator with a bearer key, for what the SDK hides (headers, status). */
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** The transport the client uses, for another client on the same emulator. */
  fetch: typeof globalThis.fetch;
}

const open: Emulator[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((emulator) => emulator.close()));
});

/** A fresh emulator served in-process (no socket), closed after the test. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Harness> {
  const emulator = createEmulator(options);
  open.push(emulator);
  return harness(emulator, IN_PROCESS_ORIGIN, options, inProcessFetch(emulator.handle));
}

/** A fresh emulator on an ephemeral loopback port, for what needs a real socket (resets, stalls). */
export async function listenEmulator(options: EmulatorOptions = {}): Promise<Harness> {
  const emulator = createEmulator(options);
  open.push(emulator);
  const { origin } = await emulator.listen({ port: 0 });
  return harness(emulator, origin, options, globalThis.fetch);
}

function harness(
  emulator: Emulator,
  origin: string,
  options: EmulatorOptions,
  fetch: typeof globalThis.fetch,
): Harness {
  const baseURL = `${origin}/v1`;
  const client = new OpenAI({ apiKey: options.apiKeys?.[0] ?? 'test-key', baseURL, maxRetries: 0, fetch });
  const api = (path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization'))
      headers.set('authorization', `Bearer ${options.apiKeys?.[0] ?? 'test-key'}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    const url = path.startsWith('/__emulator') ? `${origin}${path}` : `${baseURL}${path}`;
    return fetch(url, { ...init, headers, body });
  };
  return { emulator, baseURL, origin, client, api, fetch };
}

export async function uploadText(
  client: OpenAI,
  filename: string,
  text: string,
  purpose: 'assistants' | 'user_data' = 'assistants',
): Promise<OpenAI.FileObject> {
  return client.files.create({ file: new File([text], filename, { type: 'text/plain' }), purpose });
}
