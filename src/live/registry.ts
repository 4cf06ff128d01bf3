import { createHash, randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import PQueue from 'p-queue';
import {
  sharedCredentialId,
  Upstream,
  type UpstreamCall,
  type UpstreamClient,
  UpstreamError,
  type UpstreamPolicy,
} from '../upstream/index.ts';
import { defaultPollTiming, Poller, type PollTiming, stillInProgressError } from './poller.ts';
import { SharedPoller } from './shared-poller.ts';
import type { PollSharing, SharedCaps } from './sharing.ts';
import { UpdateStream } from './stream.ts';
import { behaviourOf, type LiveKind, type TargetOf, type Watched } from './targets.ts';

export { defaultPollTiming, type PollTiming } from './poller.ts';
export type { LiveKind, LiveTarget, TargetOf, Watched } from './targets.ts';

/** How much live status one credential, and one caller, may have. */
export interface LiveLimits {
  /** Objects polled at once per credential: each is one poller, however many watch it. */
  pollersPerCredential: number;
  /** Watches (subscriptions, waiting mutations) open at once per credential. */
  watchesPerCredential: number;
  /** Watches open at once per gateway token, so one caller cannot take a credential's share. */
  watchesPerToken: number;
  /**
   * Status reads per second per credential, all its pollers together. Past it, pollers wait their
   * turn (and slow down) rather than crowd out the credential's queries.
   */
  pollsPerSecond: number;
}

export const defaultLiveLimits: LiveLimits = {
  pollersPerCredential: 100,
  watchesPerCredential: 200,
  watchesPerToken: 50,
  pollsPerSecond: 20,
};

export interface LiveOptions {
  policy: UpstreamPolicy;
  timing?: Partial<PollTiming>;
  limits?: Partial<LiveLimits>;
  /**
   * Polling shared with other replicas (REDIS_URL): one poller per (credential, object) across
   * all of them. Without it, this process's pollers are its own.
   */
  sharing?: PollSharing | undefined;
  /** Watch caps counted across replicas (REDIS_URL); without it, each process counts its own. */
  caps?: SharedCaps | undefined;
  /** Reports the pollers' upstream calls, which belong to no request. */
  onCall?: (call: UpstreamCall, poller: { id: string; credential: string | null }) => void;
}

/**
 * What a watcher hears: a state (the last one is terminal), or the error that ends the watch. A
 * state comes with the upstream of the poller that read it, so what is read beyond it (its store,
 * its files) can be read once for every watcher of that state, on the poller's account.
 */
export type LiveUpdate<T> =
  | { value: T; terminal: boolean; upstream: Upstream }
  | { error: GraphQLError | Error };

/** Who watches: the request's credential and its client (whose concurrency limit the polls share). */
export interface LiveOwner {
  /** The credential's name; null when the caller sent its own key. */
  credential: string | null;
  callerKey?: string | undefined;
  client: UpstreamClient;
  /** The request: when it goes away, so do its watches. */
  signal: AbortSignal;
  /** The gateway token the caller presented, by name, when tokens are configured. */
  token?: string | undefined;
}

/** What one credential has running, counted against its limits. */
interface Share {
  pollers: number;
  watches: number;
  /** Runs a status read when the credential's poll rate allows; a stopped poller's leaves the queue. */
  throttle: <T>(read: () => Promise<T>, signal: AbortSignal) => Promise<T>;
}

function tooMany(what: string, limit: number): GraphQLError {
  return new GraphQLError(
    `This ${what} already has ${limit} live-status watches or polled objects open, its limit; end one (or wait for it to finish) and subscribe again.`,
    { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit } },
  );
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
  private readonly shares = new Map<string, Share>();
  private readonly tokenWatches = new Map<string, number>();
  private readonly timing: PollTiming;
  readonly limits: LiveLimits;

  constructor(private readonly options: LiveOptions) {
    this.timing = { ...defaultPollTiming, ...options.timing };
    this.limits = { ...defaultLiveLimits, ...options.limits };
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

  /**
   * @internal Admits one more watch by this owner, or says which limit it would pass. The release
   * it returns must be called when the watch ends.
   */
  admit(owner: LiveOwner): { release(): void } | { refusal: GraphQLError } {
    const share = this.shareOf(owner);
    const tokenCount = owner.token === undefined ? 0 : (this.tokenWatches.get(owner.token) ?? 0);
    if (share.watches >= this.limits.watchesPerCredential) {
      return { refusal: tooMany('credential', this.limits.watchesPerCredential) };
    }
    if (owner.token !== undefined && tokenCount >= this.limits.watchesPerToken) {
      return { refusal: tooMany('token', this.limits.watchesPerToken) };
    }
    share.watches++;
    if (owner.token !== undefined) this.tokenWatches.set(owner.token, tokenCount + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        share.watches--;
        if (owner.token === undefined) return;
        const left = (this.tokenWatches.get(owner.token) ?? 1) - 1;
        if (left > 0) this.tokenWatches.set(owner.token, left);
        else this.tokenWatches.delete(owner.token);
      },
    };
  }

  /**
   * @internal With caps shared by replicas, admits one more watch by this owner over all of them,
   * after this process's own count (`admit`) let it in.
   */
  async admitShared(owner: LiveOwner): Promise<{ release(): void } | { refusal: GraphQLError }> {
    const { caps } = this.options;
    if (!caps) return { release() {} };
    const credential = await caps.take(
      `watches:${sharedCredentialId(owner.client.credential)}`,
      this.limits.watchesPerCredential,
    );
    if (!credential) return { refusal: tooMany('credential', this.limits.watchesPerCredential) };
    if (owner.token === undefined) return credential;
    const token = await caps.take(`token-watches:${owner.token}`, this.limits.watchesPerToken);
    if (!token) {
      credential.release();
      return { refusal: tooMany('token', this.limits.watchesPerToken) };
    }
    return {
      release() {
        credential.release();
        token.release();
      },
    };
  }

  /** A place under the credential's cap on polled objects, over all replicas. */
  private async admitPolling(owner: LiveOwner): Promise<{ release(): void } | GraphQLError> {
    const { caps } = this.options;
    const limit = this.limits.pollersPerCredential;
    const place = await caps?.take(`pollers:${sharedCredentialId(owner.client.credential)}`, limit);
    if (place === null) return tooMany('credential', limit);
    return place ?? { release() {} };
  }

  /** @internal Whether watch caps are counted across replicas. */
  get capsShared(): boolean {
    return this.options.caps !== undefined;
  }

  /**
   * @internal The poller of this object for this credential, started if there is none; an error
   * when the credential already polls as many objects as it may.
   */
  pollerFor<K extends LiveKind>(
    owner: LiveOwner,
    target: TargetOf<K>,
  ): Poller<K> | SharedPoller<K> | GraphQLError {
    const credentialKey = credentialKeyOf(owner);
    const key = `${credentialKey}\u0000${behaviourOf<K>(target.kind as K).key(target)}`;
    const running = this.pollers.get(key) as Poller<K> | SharedPoller<K> | undefined;
    if (running && !running.isStopped) return running;
    const share = this.shareOf(owner);
    if (share.pollers >= this.limits.pollersPerCredential) {
      return tooMany('credential', this.limits.pollersPerCredential);
    }
    const id = `poll-${randomUUID()}`;
    const { onCall } = this.options;
    share.pollers++;
    const createUpstream = (signal: AbortSignal | undefined) =>
      new Upstream(owner.client, this.options.policy, {
        signal,
        onCall: onCall ? (call) => onCall(call, { id, credential: owner.credential }) : undefined,
      });
    const onStop = () => {
      share.pollers--;
      if (this.pollers.get(key) === poller) this.pollers.delete(key);
    };
    const { sharing } = this.options;
    const poller: Poller<K> | SharedPoller<K> = sharing
      ? new SharedPoller<K>(
          target,
          `${sharedCredentialId(owner.client.credential)}:${behaviourOf<K>(target.kind as K).key(target)}`,
          sharing,
          createUpstream,
          this.timing,
          onStop,
          share.throttle,
          this.options.caps ? () => this.admitPolling(owner) : undefined,
        )
      : new Poller<K>(target, createUpstream, this.timing, onStop, share.throttle);
    this.pollers.set(key, poller);
    return poller;
  }

  private shareOf(owner: LiveOwner): Share {
    const key = credentialKeyOf(owner);
    let share = this.shares.get(key);
    if (!share) {
      // A sliding window: no more reads in any second than the rate, never a burst at its edge.
      const rate = this.limits.pollsPerSecond;
      const queue = new PQueue({ intervalCap: rate, interval: 1000, strict: true });
      // With replicas, the rate holds across them too: a read also waits for the shared second.
      const shared = this.options.sharing;
      const id = shared && sharedCredentialId(owner.client.credential);
      const paced: Share['throttle'] =
        shared && id
          ? (read, signal) =>
              queue.add(
                async () => {
                  await shared.turn(id, rate, signal);
                  return read();
                },
                { signal },
              )
          : (read, signal) => queue.add(read, { signal });
      share = { pollers: 0, watches: 0, throttle: paced };
      this.shares.set(key, share);
    }
    return share;
  }
}

/** A credential's name, or a digest of a caller's own key: a key is never kept in clear. */
function credentialKeyOf(owner: LiveOwner): string {
  return (
    owner.credential ??
    `caller:${createHash('sha256')
      .update(owner.callerKey ?? '')
      .digest('base64url')}`
  );
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
    const admission = this.registry.admit(this.owner);
    let sharedRelease: (() => void) | undefined;
    let ended = false;
    const onAbort = () => void stream.return();
    const stream = new UpdateStream<LiveUpdate<Watched[K]>>(() => {
      ended = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      remove?.();
      sharedRelease?.();
      if ('release' in admission) admission.release();
    });
    if ('refusal' in admission) {
      stream.push({ error: admission.refusal }, true);
      return stream;
    }
    if (signal.aborted) {
      void stream.return();
      return stream;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    const start = () => {
      const poller = this.registry.pollerFor(this.owner, target);
      if (poller instanceof GraphQLError) {
        stream.push({ error: poller }, true);
        return;
      }
      timer = setTimeout(() => {
        const progress = latest === undefined ? 'not read yet' : behaviour.progress(latest);
        stream.push(
          { error: stillInProgressError(behaviour.describe(target), progress, options.deadlineMs) },
          true,
        );
      }, options.deadlineMs);
      remove = poller.add((event) => {
        if (event.type === 'error') return stream.push({ error: event.error }, true);
        latest = event.value;
        stream.push(
          { value: event.value, terminal: event.terminal, upstream: poller.readsUpstream },
          event.terminal,
        );
      }, Date.now() + options.deadlineMs);
    };
    if (!this.registry.capsShared) {
      start();
      return stream;
    }
    // Counted over all replicas before any poll starts; a watch that ended meanwhile gives its
    // place back at once.
    void this.registry.admitShared(this.owner).then((shared) => {
      if ('refusal' in shared) {
        if (!ended) stream.push({ error: shared.refusal }, true);
        return;
      }
      if (ended) return shared.release();
      sharedRelease = shared.release;
      start();
    });
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
