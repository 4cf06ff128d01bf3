import { createHash, randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import {
  Upstream,
  type UpstreamCall,
  type UpstreamClient,
  UpstreamError,
  type UpstreamPolicy,
} from '../upstream/index.ts';
import { defaultPollTiming, Poller, type PollTiming, stillInProgressError } from './poller.ts';
import { UpdateStream } from './stream.ts';
import { behaviourOf, type LiveKind, type TargetOf, type Watched } from './targets.ts';

export { defaultPollTiming, type PollTiming } from './poller.ts';
export type { LiveKind, LiveTarget, TargetOf, Watched } from './targets.ts';

export interface LiveOptions {
  policy: UpstreamPolicy;
  timing?: Partial<PollTiming>;
  /** Reports the pollers' upstream calls, which belong to no request. */
  onCall?: (call: UpstreamCall, poller: { id: string; credential: string | null }) => void;
}

/** What a watcher hears: a state (the last one is terminal), or the error that ends the watch. */
export type LiveUpdate<T> = { value: T; terminal: boolean } | { error: GraphQLError | Error };

/** Who watches: the request's credential and its client (whose concurrency limit the polls share). */
export interface LiveOwner {
  /** The credential's name; null when the caller sent its own key. */
  credential: string | null;
  callerKey?: string | undefined;
  client: UpstreamClient;
  /** The request: when it goes away, so do its watches. */
  signal: AbortSignal;
}

interface RunningPoller {
  readonly isStopped: boolean;
  stop(reason?: Error): void;
}

/**
 * The process-wide set of status pollers: at most one per (credential, object), however many
 * subscriptions and waiting mutations watch that object.
 */
export class LiveRegistry {
  private readonly pollers = new Map<string, RunningPoller>();
  private readonly timing: PollTiming;

  constructor(private readonly options: LiveOptions) {
    this.timing = { ...defaultPollTiming, ...options.timing };
  }

  /** A request's view of the registry. */
  session(owner: LiveOwner): LiveSession {
    return new LiveSession(this, owner);
  }

  /** Pollers running now. */
  get size(): number {
    return this.pollers.size;
  }

  /** Ends every watch and every poll, as the process stops: watchers hear why, and may watch elsewhere. */
  stopAll(): void {
    const reason = new GraphQLError('The gateway is shutting down; subscribe again to keep watching.', {
      extensions: { code: 'SHUTTING_DOWN' },
    });
    for (const poller of [...this.pollers.values()]) poller.stop(reason);
  }

  /** @internal The poller of this object for this credential, started if there is none. */
  pollerFor<K extends LiveKind>(owner: LiveOwner, target: TargetOf<K>): Poller<K> {
    const credentialKey =
      owner.credential ??
      `caller:${createHash('sha256')
        .update(owner.callerKey ?? '')
        .digest('base64url')}`;
    // A caller key is never kept as a map key in clear.
    const key = `${credentialKey}\u0000${behaviourOf<K>(target.kind as K).key(target)}`;
    const running = this.pollers.get(key) as Poller<K> | undefined;
    if (running && !running.isStopped) return running;
    const id = `poll-${randomUUID()}`;
    const { onCall } = this.options;
    const poller: Poller<K> = new Poller<K>(
      target,
      (signal) =>
        new Upstream(owner.client, this.options.policy, {
          signal,
          onCall: onCall ? (call) => onCall(call, { id, credential: owner.credential }) : undefined,
        }),
      this.timing,
      () => {
        if (this.pollers.get(key) === poller) this.pollers.delete(key);
      },
    );
    this.pollers.set(key, poller);
    return poller;
  }
}

export class LiveSession {
  constructor(
    private readonly registry: LiveRegistry,
    private readonly owner: LiveOwner,
  ) {}

  /**
   * Updates about one object: its current state first, then each change, ending after a terminal
   * state, or with an error at the deadline (STILL_IN_PROGRESS), on a failure, or when the
   * request goes away.
   */
  watch<K extends LiveKind>(
    target: TargetOf<K>,
    options: { deadlineMs: number },
  ): AsyncIterableIterator<LiveUpdate<Watched[K]>, undefined, undefined> {
    const { signal } = this.owner;
    const behaviour = behaviourOf<K>(target.kind as K);
    let remove: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let latest: Watched[K] | undefined;
    const onAbort = () => void stream.return();
    const stream = new UpdateStream<LiveUpdate<Watched[K]>>(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      remove?.();
    });
    if (signal.aborted) {
      void stream.return();
      return stream;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => {
      const progress = latest === undefined ? 'not read yet' : behaviour.progress(latest);
      stream.push(
        { error: stillInProgressError(behaviour.describe(target), progress, options.deadlineMs) },
        true,
      );
    }, options.deadlineMs);
    remove = this.registry.pollerFor(this.owner, target).add((event) => {
      if (event.type === 'error') return stream.push({ error: event.error }, true);
      latest = event.value;
      stream.push({ value: event.value, terminal: event.terminal }, event.terminal);
    }, Date.now() + options.deadlineMs);
    return stream;
  }

  /**
   * Waits until the object is terminal or `timeoutMs` has passed, whichever comes first, and says
   * which. `initial` is what the caller already knows (a batch it just created). A wait that
   * fails (the polls were rate limited, the gateway is stopping) answers the latest state known,
   * as not terminal: it comes after a write that happened, and must not report that as a failure.
   * It throws only when it knows nothing at all.
   */
  async waitUntilTerminal<K extends LiveKind>(
    target: TargetOf<K>,
    options: { timeoutMs: number; initial?: Watched[K] },
  ): Promise<{ value: Watched[K]; terminal: boolean }> {
    let latest = options.initial;
    for await (const update of this.watch(target, { deadlineMs: options.timeoutMs })) {
      if ('error' in update) {
        if (latest !== undefined) return { value: latest, terminal: false };
        throw update.error;
      }
      latest = update.value;
      if (update.terminal) return { value: update.value, terminal: true };
    }
    if (latest !== undefined) return { value: latest, terminal: false };
    throw new UpstreamError('REQUEST_CANCELLED', 'The request was cancelled while waiting for processing.');
  }
}
