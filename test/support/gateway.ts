import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { toFile } from 'openai';
import { type App, type AppOptions, createApp } from '../../src/app.ts';
import { type Clock, createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';

/**
 * A canary: fresh for every run, so a leak cannot pass by matching a fixed string somewhere. Every
 * gateway of the suite holds it, and close() fails the test if a response or a log line
 * carried it.
 */
export const TEST_API_KEY = `sk-canary-${randomBytes(16).toString('hex')}`;

/** What a leak of the canary would look like: the key, or the tail OpenAI's 401 text echoes. */
export function leaksCanary(text: string): boolean {
  return text.includes(TEST_API_KEY) || text.includes(TEST_API_KEY.slice(-8));
}

export interface GraphQLResponse<TData = Record<string, unknown>> {
  data?: TData | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

export interface TestGateway {
  url: string;
  app: App;
  emulator: Emulator;
  /** The real SDK pointed at the emulator, for seeding and for comparing with what the gateway says. */
  openai: OpenAI;
  clock: ManualClock;
  graphql<TData = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<TData>>;
  /** Upstream calls the emulator saw since the last reset. */
  upstreamCalls(): number;
  resetUpstreamCalls(): void;
  /** Every line the gateway logged, as JSON text. */
  logLines(): string[];
  close(): Promise<void>;
}

/** A clock that only moves when told, so tests can create many objects in the same second. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 10, 1, 12, 0, 0)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

export async function startGateway(
  options: { emulator?: EmulatorOptions; app?: Partial<AppOptions> } = {},
): Promise<TestGateway> {
  const clock = new ManualClock();
  const emulator = createEmulator({ clock, ...options.emulator });
  const { baseURL } = await emulator.listen();
  const logLines: string[] = [];
  const exposed: string[] = [];
  const app = createApp({
    credentials: new Map([['default', { apiKey: TEST_API_KEY, baseURL }]]),
    log: { level: 'debug', destination: { write: (line: string) => void logLines.push(line) } },
    ...options.app,
    policy: { readRetries: 0, ...options.app?.policy },
  });
  const server: Server = createServer(app.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const openai = new OpenAI({ apiKey: TEST_API_KEY, baseURL, maxRetries: 0 });
  return {
    url,
    app,
    emulator,
    openai,
    clock,
    async graphql(query, variables, headers) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      exposed.push(text, JSON.stringify([...response.headers]));
      return JSON.parse(text) as GraphQLResponse<never>;
    },
    upstreamCalls: () => emulator.stats().total,
    resetUpstreamCalls: () => emulator.resetStats(),
    logLines: () => [...logLines],
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await emulator.close();
      const leaks = [...exposed, ...logLines].filter(leaksCanary);
      if (leaks.length > 0)
        throw new Error(`The API key leaked into ${leaks.length} responses or log lines: ${leaks[0]}`);
    },
  };
}

/** Uploads `count` small text files and attaches them to a new store in one batch. */
export async function seedStore(
  openai: OpenAI,
  options: { name?: string; files?: number; attributes?: Record<string, string | number | boolean> } = {},
): Promise<{ storeId: string; fileIds: string[] }> {
  const store = await openai.vectorStores.create({ name: options.name ?? 'Seeded store' });
  const fileIds = await uploadTextFiles(openai, options.files ?? 0, options.name ?? 'doc');
  if (fileIds.length > 0) {
    await openai.vectorStores.fileBatches.create(store.id, {
      file_ids: fileIds,
      attributes: options.attributes,
    });
  }
  return { storeId: store.id, fileIds };
}

export async function uploadTextFiles(openai: OpenAI, count: number, prefix = 'doc'): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index++) {
    const body = `${prefix} number ${index}: notes about vector stores, chunking and search.`;
    const file = await openai.files.create({
      file: await toFile(Buffer.from(body), `${prefix}-${index}.txt`, { type: 'text/plain' }),
      purpose: 'assistants',
    });
    ids.push(file.id);
  }
  return ids;
}
