import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { toFile } from 'openai';
import { type App, type AppOptions, createApp } from '../../src/app.ts';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';
import { attachWebSocket, type WebSocketEdge, type WebSocketLimits } from '../../src/http/websocket.ts';
import { ManualClock } from './clock.ts';
import { IN_PROCESS_ORIGIN, inProcessFetch } from './in-process.ts';

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
  /** The GraphQL endpoint's URL; in-process, one no socket can reach. */
  url: string;
  /** The same endpoint for graphql-ws (`ws://`); loopback only. */
  wsUrl: string;
  /** The WebSocket edge on the loopback server; absent in-process. */
  websocket?: WebSocketEdge;
  /** A fetch that reaches the gateway (over loopback, or in-process through yoga's handler). */
  fetch: typeof fetch;
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

export interface GatewayOptions {
  emulator?: EmulatorOptions;
  app?: Partial<AppOptions>;
  /** Limits of the WebSocket edge (loopback only). */
  websocket?: Partial<WebSocketLimits>;
}

/**
 * A gateway and its emulator in this process, without a socket: the SDK reaches the emulator
 * through an in-process fetch, and requests reach the gateway through yoga's fetch handler. The
 * whole edge runs (routes, access, request log, limits); only Node's HTTP server does not.
 */
export function createGateway(options: GatewayOptions = {}): Promise<TestGateway> {
  return assemble(options, 'in-process');
}

/** The same, with the emulator and the gateway each listening on a loopback port. */
export function startGateway(options: GatewayOptions = {}): Promise<TestGateway> {
  return assemble(options, 'loopback');
}

async function assemble(options: GatewayOptions, mode: 'in-process' | 'loopback'): Promise<TestGateway> {
  const clock = new ManualClock();
  const emulator = createEmulator({ clock, ...options.emulator });
  const upstream =
    mode === 'loopback'
      ? { baseURL: (await emulator.listen()).baseURL, fetch: globalThis.fetch }
      : { baseURL: `${IN_PROCESS_ORIGIN}/v1`, fetch: inProcessFetch(emulator.handle) };
  const logLines: string[] = [];
  const exposed: string[] = [];
  const app = createApp({
    credentials: new Map([['default', { apiKey: TEST_API_KEY, ...upstream }]]),
    log: { level: 'debug', destination: { write: (line: string) => void logLines.push(line) } },
    ...options.app,
    policy: { readRetries: 0, ...options.app?.policy },
  });
  let server: Server | undefined;
  let websocket: WebSocketEdge | undefined;
  let url = 'http://localhost/graphql';
  let gatewayFetch: typeof fetch = async (input, init) => app.yoga.fetch(input as string, init ?? {});
  if (mode === 'loopback') {
    const listening = createServer(app.handle);
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    server = listening;
    websocket = attachWebSocket(listening, app, options.websocket);
    url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}/graphql`;
    gatewayFetch = globalThis.fetch;
  }
  const openai = new OpenAI({
    apiKey: TEST_API_KEY,
    baseURL: upstream.baseURL,
    maxRetries: 0,
    fetch: upstream.fetch,
  });
  return {
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    ...(websocket ? { websocket } : {}),
    fetch: gatewayFetch,
    app,
    emulator,
    openai,
    clock,
    async graphql(query, variables, headers) {
      const response = await gatewayFetch(url, {
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
      app.live.stopAll();
      await websocket?.close();
      if (server) {
        const closing = server;
        closing.closeAllConnections();
        await new Promise<void>((resolve) => closing.close(() => resolve()));
      }
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
