import { setTimeout as sleep } from 'node:timers/promises';
import { GraphQLError } from 'graphql';
import { type Upstream, UpstreamError } from '../upstream/index.ts';
import { behaviourOf, type LiveKind, type TargetOf, type Watched } from './targets.ts';

export interface PollTiming {
  /** First interval, kept while the object keeps changing. */
  initialIntervalMs: number;
  /** Factor applied after each poll that saw no change. */
  growth: number;
  maxIntervalMs: number;
  /** Transient failures in a row (rate limited, unavailable, timed out) before subscribers are told. */
  maxConsecutiveFailures: number;
}

export const defaultPollTiming: PollTiming = {
  initialIntervalMs: 250,
  growth: 1.5,
  maxIntervalMs: 5000,
  maxConsecutiveFailures: 5,
};

/**
 * The most polls one poller makes in `ms`: while the object keeps changing its interval holds at
 * the first one, so that is the bound, whatever the backoff saves on a quiet object.
 */
export function pollsWithin(ms: number, timing: PollTiming = defaultPollTiming): number {
  return Math.floor(ms / timing.initialIntervalMs) + 1;
}

export type PollEvent<T> =
  | { type: 'value'; value: T; terminal: boolean }
  | { type: 'error'; error: GraphQLError | Error };

export type PollListener<T> = (event: PollEvent<T>) => void;

const RETRYABLE: ReadonlySet<string> = new Set(['RATE_LIMITED', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT']);

export function stillInProgressError(what: string, progress: string, waitedMs: number): GraphQLError {
  const seconds = Math.round(waitedMs / 1000);
  return new GraphQLError(
    `The ${what} is still in progress (${progress}) after ${seconds} s, the deadline of this watch. Subscribe again, or query it later, to see how it ends.`,
    { extensions: { code: 'STILL_IN_PROGRESS', waitedSeconds: seconds } },
  );
}

/**
 * Polls one object for everyone watching it. It starts with its first listener, pushes a state
 * only when it differs from the last one pushed, and stops when the object is terminal, when the
 * last listener leaves, at the latest of its listeners' deadlines, or on a failure it cannot wait
 * out. Its upstream calls belong to it, not to any listener's request, so a listener leaving does
 * not cancel a poll the others wait for; stopping aborts the call in flight.
 */
export class Poller<K extends LiveKind> {
  private readonly listeners = new Set<PollListener<Watched[K]>>();
  private readonly controller = new AbortController();
  /** The poller's door to OpenAI for its polls: they stop when it stops. */
  private readonly upstream: Upstream;
  /**
   * Its door for what watchers read beyond each polled state (its store, its files), on the
   * poller's account: not cancelled when polling stops, since the last state is read after that.
   */
  readonly readsUpstream: Upstream;
  private current: Extract<PollEvent<Watched[K]>, { type: 'value' }> | undefined;
  private deadlineAt = 0;
  private readonly startedAt = Date.now();
  private started = false;
  private stopped = false;

  constructor(
    private readonly target: TargetOf<K>,
    createUpstream: (signal: AbortSignal | undefined) => Upstream,
    private readonly timing: PollTiming,
    private readonly onStop: () => void,
    /** Runs each status read when the credential's poll rate allows. */
    private readonly throttle: <T>(read: () => Promise<T>, signal: AbortSignal) => Promise<T> = (read) =>
      read(),
  ) {
    this.upstream = createUpstream(this.controller.signal);
    this.readsUpstream = createUpstream(undefined);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Adds a listener that wants news until `deadlineAt` (epoch ms). It hears the current state at
   * once when there is one (on a later tick, so `add` has returned its remover by then).
   */
  add(listener: PollListener<Watched[K]>, deadlineAt: number): () => void {
    if (this.stopped) throw new Error('A stopped poller cannot take listeners.');
    this.listeners.add(listener);
    this.deadlineAt = Math.max(this.deadlineAt, deadlineAt);
    const current = this.current;
    if (current) {
      queueMicrotask(() => {
        if (this.listeners.has(listener)) listener(current);
      });
    }
    if (!this.started) {
      this.started = true;
      void this.run();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Stops polling; listeners still attached hear `reason` first, when one is given. */
  stop(reason?: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    if (reason) this.emit({ type: 'error', error: reason });
    this.listeners.clear();
    this.controller.abort();
    this.onStop();
  }

  private emit(event: PollEvent<Watched[K]>): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  /** Tells everyone how it ended, then stops. */
  private finish(event: PollEvent<Watched[K]>): void {
    this.emit(event);
    this.stop();
  }

  private async run(): Promise<void> {
    const behaviour = behaviourOf<K>(this.target.kind as K);
    const { timing } = this;
    let interval = timing.initialIntervalMs;
    let failures = 0;
    let lastFingerprint: string | undefined;
    while (!this.stopped) {
      let delay: number;
      try {
        const { value, pollAfterMs } = await this.throttle(
          () => behaviour.poll(this.upstream, this.target),
          this.controller.signal,
        );
        if (this.stopped) return;
        failures = 0;
        const fingerprint = behaviour.fingerprint(value);
        const terminal = behaviour.isTerminal(value);
        const changed = fingerprint !== lastFingerprint;
        lastFingerprint = fingerprint;
        // Late joiners get the newest state, even when it only differs in fields nobody is told about.
        this.current = { type: 'value', value, terminal };
        if (terminal) return this.finish(this.current);
        if (changed) this.emit(this.current);
        // While the object keeps changing the interval holds; a quiet object is asked less often.
        if (!changed) interval = Math.min(interval * timing.growth, timing.maxIntervalMs);
        // OpenAI's hint is the soonest it wants to be asked again; the backoff may wait longer.
        delay = Math.max(interval, pollAfterMs ?? 0);
      } catch (error) {
        if (this.stopped) return;
        const upstream = error instanceof UpstreamError ? error : null;
        if (upstream?.code === 'NOT_FOUND') return this.finish({ type: 'error', error: this.notFound() });
        failures++;
        if (!upstream || !RETRYABLE.has(upstream.code) || failures >= timing.maxConsecutiveFailures) {
          return this.finish({
            type: 'error',
            error: error instanceof Error ? error : new Error(String(error)),
          });
        }
        interval = Math.min(interval * timing.growth, timing.maxIntervalMs);
        delay = Math.max(interval, (upstream.retryAfterSeconds ?? 0) * 1000);
      }
      try {
        await sleep(delay, undefined, { signal: this.controller.signal });
      } catch {
        return;
      }
      // Listeners end themselves at their deadlines; this is the backstop should one not.
      if (Date.now() >= this.deadlineAt) {
        const progress = this.current ? behaviour.progress(this.current.value) : 'not read yet';
        const error = stillInProgressError(
          behaviour.describe(this.target),
          progress,
          Date.now() - this.startedAt,
        );
        return this.finish({ type: 'error', error });
      }
    }
  }

  private notFound(): GraphQLError {
    const what = behaviourOf<K>(this.target.kind as K).describe(this.target);
    const message = this.current
      ? `The ${what} no longer exists.`
      : `There is no ${what}, or this credential cannot see it.`;
    return new GraphQLError(message, { extensions: { code: 'NOT_FOUND' } });
  }
}
