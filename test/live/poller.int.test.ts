import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LiveRegistry, type LiveSession, type LiveUpdate } from '../../src/live/registry.ts';
import { createUpstreamClient, defaultUpstreamPolicy, type FileBatch } from '../../src/upstream/index.ts';

/**
 * The poller against a scripted upstream: each GET of the batch takes the next scripted answer
 * (the last one repeats), so hints, failures and timing are exact.
 */
type Answer =
  | { status: 'in_progress' | 'completed'; pollAfterMs?: number }
  | { error: number; retryAfter?: number }
  | { stall: true };

const TARGET = { kind: 'fileBatch', vectorStoreId: 'vs_abc', batchId: 'vsfb_abc' } as const;

/** The wire shape, which the SDK type does not quite match (`file_batch`, not `files_batch`). */
function batch(status: string, inProgress: number): Record<string, unknown> {
  return {
    id: TARGET.batchId,
    object: 'vector_store.file_batch',
    created_at: 1_700_000_000,
    vector_store_id: TARGET.vectorStoreId,
    status,
    file_counts: { in_progress: inProgress, completed: 2 - inProgress, failed: 0, cancelled: 0, total: 2 },
  };
}

describe('status poller', () => {
  let server: Server;
  let script: Answer[];
  let requests: number[];
  let aborted: number;
  let registry: LiveRegistry;
  let request: AbortController;
  let session: LiveSession;

  beforeEach(async () => {
    script = [];
    requests = [];
    aborted = 0;
    server = createServer((_req: IncomingMessage, res: ServerResponse) => {
      requests.push(Date.now());
      const answer = (script.length > 1 ? script.shift() : script[0]) ?? { error: 500 };
      if ('stall' in answer) {
        res.once('close', () => aborted++);
        return;
      }
      if ('error' in answer) {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
        res.writeHead(answer.error, headers).end(JSON.stringify({ error: { message: 'no', type: 'x' } }));
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (answer.pollAfterMs !== undefined) headers['openai-poll-after-ms'] = String(answer.pollAfterMs);
      res
        .writeHead(200, headers)
        .end(JSON.stringify(batch(answer.status, answer.status === 'completed' ? 0 : 1)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const policy = { ...defaultUpstreamPolicy, readRetries: 0 };
    const client = createUpstreamClient(
      { apiKey: 'sk-test', baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` },
      policy,
    );
    registry = new LiveRegistry({
      policy,
      timing: { initialIntervalMs: 20, growth: 2, maxIntervalMs: 80, maxConsecutiveFailures: 3 },
    });
    request = new AbortController();
    session = registry.session({ credential: 'default', client, signal: request.signal });
  });

  afterEach(async () => {
    registry.stopAll();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function watchToEnd(deadlineMs = 5000): Promise<Array<LiveUpdate<FileBatch>>> {
    const updates: Array<LiveUpdate<FileBatch>> = [];
    for await (const update of session.watch(TARGET, { deadlineMs })) updates.push(update);
    return updates;
  }

  function gaps(): number[] {
    return requests.slice(1).map((at, index) => at - requests[index]!);
  }

  it('waits at least as long as openai-poll-after-ms asks, and only pushes changes', async () => {
    script = [
      { status: 'in_progress', pollAfterMs: 300 },
      { status: 'in_progress', pollAfterMs: 300 },
      { status: 'completed' },
    ];
    const updates = await watchToEnd();
    expect(requests).toHaveLength(3);
    for (const gap of gaps()) expect(gap).toBeGreaterThanOrEqual(290);
    expect(
      updates.map((update) => ('value' in update ? [update.value.status, update.terminal] : 'error')),
    ).toEqual([
      ['in_progress', false],
      ['completed', true],
    ]);
  });

  it('backs off while nothing changes, up to the maximum interval', async () => {
    script = [{ status: 'in_progress' }];
    const updates = await watchToEnd(600);
    // The first answer is news, so the interval holds (20); then 40, 80, 80...
    const intervals = gaps();
    expect(intervals[0]).toBeGreaterThanOrEqual(18);
    expect(intervals[1]).toBeGreaterThanOrEqual(38);
    // Past the growth, the interval stays at the maximum (80), not 160, 320...: unbounded, every
    // later gap would be 160 or more. A busy machine only lengthens gaps, never shortens them, so
    // the shortest later gap shows the cap (their median did not, in a loaded run: 254 ms).
    const later = intervals.slice(3);
    expect(later.length).toBeGreaterThan(0);
    expect(Math.min(...later)).toBeLessThan(140);
    expect(intervals.at(-1)).toBeGreaterThanOrEqual(78);
    expect(requests.length).toBeLessThanOrEqual(10);
    expect(updates).toHaveLength(2);
    expect('error' in updates[1]! && updates[1].error.message).toMatch(/still in progress \(1 of 2 files/);
  });

  it('waits out transient failures, Retry-After included, and goes on', async () => {
    script = [{ error: 503 }, { error: 429, retryAfter: 1 }, { status: 'completed' }];
    const updates = await watchToEnd();
    expect(requests).toHaveLength(3);
    expect(gaps()[1]).toBeGreaterThanOrEqual(990);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ terminal: true, value: { status: 'completed' } });
  });

  it('gives up after repeated failures, and on NOT_FOUND at once', async () => {
    script = [{ error: 503 }];
    const failed = await watchToEnd();
    expect(requests).toHaveLength(3);
    expect(failed).toHaveLength(1);
    expect('error' in failed[0]! && failed[0].error).toMatchObject({
      extensions: { code: 'UPSTREAM_UNAVAILABLE' },
    });

    requests = [];
    script = [{ status: 'in_progress' }, { error: 404 }];
    const vanished = await watchToEnd();
    expect(requests).toHaveLength(2);
    expect(
      vanished.map((update) => ('error' in update ? update.error.message : update.value.status)),
    ).toEqual(['in_progress', 'The file batch vsfb_abc of vector store vs_abc no longer exists.']);
    expect(registry.size).toBe(0);
  });

  it('cancels the poll in flight when the last watcher leaves', async () => {
    script = [{ stall: true }];
    const watch = session.watch(TARGET, { deadlineMs: 5000 });
    const pending = watch.next();
    while (requests.length === 0) await sleep(5);
    expect(registry.size).toBe(1);
    request.abort();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(registry.size).toBe(0);
    while (aborted === 0) await sleep(5);
    expect(aborted).toBe(1);
  });

  it('waitUntilTerminal says whether the object got there in time', async () => {
    script = [{ status: 'in_progress' }, { status: 'completed' }];
    await expect(session.waitUntilTerminal(TARGET, { timeoutMs: 2000 })).resolves.toMatchObject({
      terminal: true,
      value: { status: 'completed' },
    });

    script = [{ status: 'in_progress' }];
    const started = Date.now();
    await expect(session.waitUntilTerminal(TARGET, { timeoutMs: 300 })).resolves.toMatchObject({
      terminal: false,
      value: { status: 'in_progress' },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(registry.size).toBe(0);
  });
});
