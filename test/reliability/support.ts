/** Helpers shared by the reliability suite: crash watching, raw GraphQL over HTTP, bounded pools. */
import { setTimeout as sleep } from 'node:timers/promises';

/** The codes an upstream failure may carry (src/upstream/errors.ts), plus those the schema adds. */
export const UPSTREAM_CODES = new Set([
  'NOT_FOUND',
  'RATE_LIMITED',
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_AUTH_FAILED',
  'UPSTREAM_REJECTED',
  'REQUEST_CANCELLED',
  'PAYLOAD_TOO_LARGE',
]);

/**
 * Records every unhandled rejection and uncaught exception while a test runs. Vitest reports them
 * too, but only after the test; here the test itself fails, and says how many there were.
 */
export function watchProcess(): { problems: unknown[]; stop(): void } {
  const problems: unknown[] = [];
  const onProblem = (error: unknown) => void problems.push(error);
  process.on('unhandledRejection', onProblem);
  process.on('uncaughtException', onProblem);
  return {
    problems,
    stop() {
      process.off('unhandledRejection', onProblem);
      process.off('uncaughtException', onProblem);
    },
  };
}

/**
 * What the process still holds after full GCs: the JS heap in use plus memory outside it
 * (Buffers, ArrayBuffers). RSS would be the wrong yardstick for a leak: how far the heap grows,
 * and when the collector gives pages back, differ between Node 20, 22 and 24. V8 frees the
 * memory of dead ArrayBuffers after a GC, on another thread: the second GC, a moment later,
 * counts only what is still held.
 */
export async function retainedBytes(): Promise<number> {
  const gc = globalThis.gc;
  if (!gc) throw new Error('retainedBytes needs node --expose-gc (vitest.config.ts)');
  gc();
  await sleep(50);
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/** A stack frame, or a path into node_modules: what no answer may carry. */
export const STACK_TRACE = /\bat \S+ \(?[^)\s]*:\d+:\d+\)?|node_modules\//;

export interface RawResponse {
  status: number;
  contentType: string | null;
  text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export async function send(url: string, init: RequestInit): Promise<RawResponse> {
  const response = await fetch(url, init);
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type'), text, json };
}

export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message?: unknown; path?: unknown; extensions?: Record<string, unknown> }>;
  extensions?: Record<string, unknown>;
}

/**
 * What a GraphQL-over-HTTP answer must look like: JSON, an object with only `data`, `errors` and
 * `extensions`, at least one of `data` and `errors`, and every error with a non-empty message.
 * Returns what is wrong with it, or null.
 */
export function malformation(response: RawResponse): string | null {
  // No answer the suite captures may carry a stack frame or a path into node_modules.
  if (STACK_TRACE.test(response.text)) return `a stack trace: ${STACK_TRACE.exec(response.text)![0]}`;
  if (!/^application\/(graphql-response\+)?json\b/.test(response.contentType ?? '')) {
    return `content-type ${response.contentType}`;
  }
  const body = response.json;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body is not a JSON object';
  const keys = Object.keys(body);
  if (keys.some((key) => !['data', 'errors', 'extensions'].includes(key))) return `keys ${keys.join(',')}`;
  const { data, errors } = body as GraphQLBody;
  if (data === undefined && errors === undefined) return 'neither data nor errors';
  if (errors !== undefined) {
    if (!Array.isArray(errors) || errors.length === 0) return 'errors is not a non-empty array';
    for (const error of errors) {
      if (typeof error.message !== 'string' || error.message.trim() === '')
        return 'an error without a message';
    }
  }
  return null;
}

/** Runs `task` over `items`, `concurrency` at a time, in order of start. */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
