/**
 * A local, OpenAI-compatible emulator of the Vector Stores and Files API, for tests, benchmarks and
 * offline use. It imports nothing from the gateway. Mount `handle` in an existing server, or
 * `listen()` on a port of its own.
 *
 * Besides `/v1`, a control plane (no auth, not counted in stats) lets tests steer it:
 *   GET  /__emulator/stats        request counts by route template, and the last requests
 *   POST /__emulator/reset        empty state, counters and faults
 *   POST /__emulator/faults       FaultConfig JSON; `{}` or `null` clears
 *   POST /__emulator/processing   {"delayMs": n, "hold": bool}
 *   GET  /__emulator/inspect      object counts, stored bytes and open uploads
 */

import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, incorrectApiKey, invalidUrl, missingApiKey, rateLimited, serverError } from './errors.ts';
import { type FaultConfig, FaultInjector, parseFaultConfig } from './faults.ts';
import { fileBatchRoutes } from './file-batches.ts';
import { fileRoutes } from './files.ts';
import { seedSdkFixtures } from './fixtures.ts';
import { bearerKey, errorReply, json, type Reply, readJsonBody, writeReply } from './http.ts';
import { newRequestId } from './ids.ts';
import { UploadAbortedError } from './multipart.ts';
import type { TieOrder, UnknownCursorPolicy } from './pagination.ts';
import { checkPathIds, type RouteContext, Router } from './router.ts';
import { type Clock, EmulatorState } from './state.ts';
import { uploadRoutes } from './uploads.ts';
import { expectBoolean, expectInteger, expectObject, rejectUnknownKeys } from './validation.ts';
import { vectorStoreFileRoutes } from './vector-store-files.ts';
import { vectorStoreRoutes } from './vector-stores.ts';

export type { FaultConfig, FaultRule } from './faults.ts';
export { SDK_FIXTURE_IDS } from './fixtures.ts';
export type { TieOrder, UnknownCursorPolicy } from './pagination.ts';
export type { Clock } from './state.ts';

export interface EmulatorOptions {
  /** Accepted bearer keys; empty or undefined accepts any non-empty key. */
  apiKeys?: readonly string[];
  /** Delay from attach to a file's final status; 0 finishes at once (visible on the next read). */
  processingDelayMs?: number;
  /** Cap on the total bytes of stored files; an upload past it is rejected with 413. */
  maxStoredBytes?: number;
  clock?: Clock;
  /** What an unknown pagination cursor gives: 404 naming the parameter, or an empty page. */
  unknownCursor?: UnknownCursorPolicy;
  /**
   * How objects created in the same second are listed. 'reverse' (default, as the real API lists
   * them in most recordings): `order=desc` is the exact reverse of `order=asc`, ties included.
   * 'stable': ties keep their insertion order under both orders. See pagination.ts for the evidence.
   */
  tieOrder?: TieOrder;
  /**
   * Sends `openai-poll-after-ms: <n>` on attach, batch create and their retrieves, so the SDK's
   * poll helpers come back after n ms instead of their 5 s default. Off by default: no recorded
   * real response carries the header.
   */
  pollAfterMs?: number;
  /**
   * Seeds the fixed ids of the official SDK's generated tests (`upload_abc123`), which are never
   * consumed by cancel or complete, so those tests can run against the emulator. Off by default:
   * it bends real semantics for those ids (see fixtures.ts). `reset()` seeds them again.
   */
  sdkFixtures?: boolean;
  /**
   * Keep each request's query parameters and body in `stats().requests`, so tests can check what
   * a client sent. Off by default: bodies can be large.
   */
  recordRequests?: boolean;
  /** Default seed for fault randomness, used when a fault config brings none. */
  seed?: number;
}

export interface RecordedRequest {
  method: string;
  route: string;
  path: string;
  status: number | null;
  /** With `recordRequests`: the query string's parameters, and the body (JSON, or a form's fields). */
  query?: Record<string, string>;
  body?: unknown;
}

export interface EmulatorStats {
  /** Every /v1 request that reached the emulator, faulted ones included. */
  total: number;
  /** Keyed by method and route template, e.g. "GET /v1/vector_stores/{vector_store_id}/files". */
  byRoute: Record<string, number>;
  /** The last 10,000 requests; `status` is null when no response was completed (resets, stalls). */
  requests: RecordedRequest[];
  /**
   * The most /v1 requests in flight at once, from arrival to the end of their answer, per API key
   * (the last 8 characters of its bearer key; `(none)` without one): what a client's concurrency
   * limit must keep down.
   */
  maxInFlight: Record<string, number>;
  /** Requests whose connection is still open now, per API key as above (none listed: none open). */
  inFlight: Record<string, number>;
}

export interface EmulatorInspection {
  files: number;
  vectorStores: number;
  /** Bytes held: stored files plus the parts of open uploads (what `maxStoredBytes` caps). */
  storedBytes: number;
  /** Multipart request bodies (files and upload parts) still streaming in. */
  uploadsInFlight: number;
  /** Uploads (`/v1/uploads`) still taking parts: pending and not expired. */
  openUploads: number;
  /** Bytes held in the parts of open uploads; part of `storedBytes`. */
  uploadPartBytes: number;
}

export interface Emulator {
  handle(req: IncomingMessage, res: ServerResponse): void;
  listen(opts?: { port?: number; host?: string }): Promise<{ origin: string; baseURL: string; port: number }>;
  close(): Promise<void>;
  stats(): EmulatorStats;
  resetStats(): void;
  reset(): void;
  setFaults(config: FaultConfig | null): void;
  setProcessing(opts: { delayMs?: number; hold?: boolean }): void;
  inspect(): EmulatorInspection;
}

const DEFAULT_MAX_STORED_BYTES = 1024 ** 3;
const MAX_RECORDED_REQUESTS = 10_000;
const UNMATCHED_ROUTE = '(unmatched)';

const systemClock: Clock = { now: () => Date.now() };

export function createEmulator(options: EmulatorOptions = {}): Emulator {
  if (
    options.pollAfterMs !== undefined &&
    !(Number.isInteger(options.pollAfterMs) && options.pollAfterMs >= 0)
  ) {
    throw new RangeError(`pollAfterMs must be a non-negative integer, got ${options.pollAfterMs}.`);
  }
  const apiKeys = new Set(options.apiKeys ?? []);
  const state = new EmulatorState(options.clock ?? systemClock, options.processingDelayMs ?? 0);
  const seed = (): void => {
    if (options.sdkFixtures) seedSdkFixtures(state);
  };
  seed();
  const settings = {
    unknownCursor: options.unknownCursor ?? 'not_found',
    tieOrder: options.tieOrder ?? 'reverse',
    pollAfterMs: options.pollAfterMs ?? null,
    maxStoredBytes: options.maxStoredBytes ?? DEFAULT_MAX_STORED_BYTES,
  } satisfies RouteContext['settings'];
  const router = new Router([
    ...fileRoutes,
    ...vectorStoreRoutes,
    ...vectorStoreFileRoutes,
    ...fileBatchRoutes,
    ...uploadRoutes,
  ]);
  const faults = new FaultInjector(options.seed ?? 0);

  let stats: Omit<EmulatorStats, 'inFlight'> = { total: 0, byRoute: {}, requests: [], maxInFlight: {} };
  // Responses deliberately left hanging by a stall fault; close() ends them.
  const stalled = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  let shutdown = new AbortController();
  let server: Server | null = null;

  /** Requests in flight now, per key, for `maxInFlight`. */
  const inFlight = new Map<string, number>();

  function record(
    method: string,
    route: string,
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
  ): RecordedRequest {
    const path = url.pathname;
    const key = bearerKey(req)?.slice(-8) ?? '(none)';
    const now = (inFlight.get(key) ?? 0) + 1;
    inFlight.set(key, now);
    stats.maxInFlight[key] = Math.max(stats.maxInFlight[key] ?? 0, now);
    res.once('close', () => inFlight.set(key, (inFlight.get(key) ?? 1) - 1));
    stats.total += 1;
    stats.byRoute[route] = (stats.byRoute[route] ?? 0) + 1;
    const entry: RecordedRequest = { method, route, path, status: null };
    if (options.recordRequests) entry.query = Object.fromEntries(url.searchParams);
    stats.requests.push(entry);
    // Trim in bulk so recording stays O(1) amortised.
    if (stats.requests.length > 2 * MAX_RECORDED_REQUESTS) stats.requests.splice(0, MAX_RECORDED_REQUESTS);
    res.once('finish', () => {
      entry.status = res.statusCode;
    });
    return entry;
  }

  function hold(res: ServerResponse): void {
    stalled.add(res);
    res.once('close', () => stalled.delete(res));
  }

  function authenticate(req: IncomingMessage): void {
    const key = bearerKey(req);
    if (key === null) throw missingApiKey();
    if (apiKeys.size > 0 && !apiKeys.has(key)) throw incorrectApiKey(key);
  }

  async function serveApi(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    meta: ReplyMeta,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const match = router.match(method, url.pathname);
    const routeKey = match ? match.route.key : `${method} ${UNMATCHED_ROUTE}`;
    const recorded = record(method, routeKey, url, req, res);

    const { delayMs, action } = faults.decide(routeKey, `${method} ${url.pathname}`);
    if (delayMs > 0) {
      // Every delayed request listens on the one shutdown signal, hundreds at a time under load.
      setMaxListeners(0, shutdown.signal);
      await sleep(delayMs, undefined, { signal: shutdown.signal });
    }
    if (action.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (action.kind === 'stall' && action.stage === 'headers') {
      hold(res);
      return;
    }

    let reply: Reply;
    // Whether the error, if any, came from the route itself (not auth, faults or routing).
    let routed = false;
    try {
      if (action.kind === 'rate_limit') throw rateLimited(action.retryAfterSeconds);
      if (action.kind === 'error') throw serverError(action.status);
      authenticate(req);
      if (!match) throw invalidUrl(method, url.pathname);
      routed = true;
      checkPathIds(match.route, match.params);
      state.sweepExpired();
      reply = await match.route.handler({
        state,
        settings,
        req,
        params: match.params,
        query: url.searchParams,
        body: async () => {
          const body = await readJsonBody(req);
          if (options.recordRequests) recorded.body = body;
          return body;
        },
        note: (sent) => {
          if (options.recordRequests) recorded.body = sent;
        },
      });
    } catch (error) {
      // A client gone mid-body (an upload or a JSON body) is owed no answer, and is no fault of ours.
      if (error instanceof UploadAbortedError || (req.destroyed && !req.complete)) return;
      reply = errorReply(toApiError(error), { detail: routed && match?.route.filesApi === true });
    }
    const truncate = action.kind === 'stall' && action.stage === 'body';
    if (truncate) hold(res);
    writeReply(res, reply, meta, { truncate });
  }

  async function serveControl(req: IncomingMessage, res: ServerResponse, path: string, meta: ReplyMeta) {
    const route = `${req.method} ${path}`;
    let reply: Reply;
    try {
      switch (route) {
        case 'GET /__emulator/stats':
          reply = json(emulator.stats());
          break;
        case 'POST /__emulator/reset':
          emulator.reset();
          reply = json({ reset: true });
          break;
        case 'POST /__emulator/faults':
          faults.set(parseFaultConfig(await readJsonBody(req), router.keys()));
          reply = json({ faults: faults.current() });
          break;
        case 'POST /__emulator/processing':
          state.setProcessing(parseProcessing(await readJsonBody(req)));
          reply = json(state.processing());
          break;
        case 'GET /__emulator/inspect':
          reply = json(emulator.inspect());
          break;
        default:
          throw invalidUrl(req.method ?? 'GET', path);
      }
    } catch (error) {
      reply = errorReply(toApiError(error));
    }
    writeReply(res, reply, meta);
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, meta: ReplyMeta): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const path = url.pathname;
    if (path.startsWith('/__emulator/')) return serveControl(req, res, path, meta);
    if (path === '/v1' || path.startsWith('/v1/')) return serveApi(req, res, url, meta);
    writeReply(res, errorReply(invalidUrl(req.method ?? 'GET', path)), meta);
  }

  const emulator: Emulator = {
    handle(req, res) {
      const meta = { requestId: newRequestId(), startedAt: performance.now() };
      dispatch(req, res, meta).catch((error: unknown) => {
        // Only an aborted latency sleep (close() during a delay) or a bug gets here.
        if (!shutdown.signal.aborted) console.error('emulator: unexpected failure', error);
        res.destroy();
      });
    },

    async listen(opts = {}) {
      if (server) throw new Error('The emulator is already listening.');
      const listening = createServer((req, res) => emulator.handle(req, res));
      listening.on('connection', (socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      const host = opts.host ?? '127.0.0.1';
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(opts.port ?? 0, host, () => {
          listening.off('error', reject);
          resolve();
        });
      });
      server = listening;
      const address = listening.address();
      const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
      const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      return { origin, baseURL: `${origin}/v1`, port };
    },

    async close() {
      shutdown.abort();
      for (const res of stalled) res.destroy();
      stalled.clear();
      const closing = server;
      server = null;
      if (closing) {
        const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await closed;
      }
      shutdown = new AbortController();
    },

    stats() {
      return {
        total: stats.total,
        byRoute: { ...stats.byRoute },
        requests: stats.requests.slice(-MAX_RECORDED_REQUESTS).map((entry) => ({ ...entry })),
        maxInFlight: { ...stats.maxInFlight },
        inFlight: Object.fromEntries([...inFlight].filter(([, count]) => count > 0)),
      };
    },

    resetStats() {
      stats = { total: 0, byRoute: {}, requests: [], maxInFlight: {} };
    },

    reset() {
      state.reset();
      seed();
      faults.set(null);
      emulator.resetStats();
    },

    setFaults(config) {
      faults.set(config);
    },

    setProcessing(opts) {
      state.setProcessing(opts);
    },

    inspect() {
      // Expiry is applied lazily; apply it now so the counts are those a request would see.
      state.sweepExpired();
      return {
        files: state.files.size,
        vectorStores: state.vectorStores.size,
        storedBytes: state.storedBytes,
        uploadsInFlight: state.uploadsInFlight,
        ...state.openUploads(),
      };
    },
  };
  return emulator;
}

interface ReplyMeta {
  requestId: string;
  startedAt: number;
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  console.error('emulator: unexpected error', error);
  return serverError(500);
}

function parseProcessing(raw: unknown): { delayMs?: number; hold?: boolean } {
  const body = expectObject(raw ?? {}, 'body');
  rejectUnknownKeys(body, ['delayMs', 'hold']);
  return {
    delayMs: body.delayMs === undefined ? undefined : expectInteger(body.delayMs, 'delayMs', { min: 0 }),
    hold: body.hold === undefined ? undefined : expectBoolean(body.hold, 'hold'),
  };
}
