import { GraphQLError } from 'graphql';
import { type Upstream, UpstreamError, type UpstreamErrorCode } from '../upstream/index.ts';
import { type PollEvent, Poller, type PollListener, type PollTiming } from './poller.ts';
import type { PollMembership, PollSharing, SharedPollEvent } from './sharing.ts';
import { behaviourOf, type LiveKind, type TargetOf, type Watched } from './targets.ts';

/**
 * One replica's view of an object polled once for all replicas. It offers its watchers what a
 * `Poller` does; whether this replica polls is the lease's to say. While it holds the lease a
 * local `Poller` reads the object and its events are published as well as delivered; otherwise it
 * relays what the holder publishes. It stops when its last watcher leaves (releasing the lease,
 * so another replica that still has watchers takes over) or when the object's watch ends.
 *
 * The deadline backstop of `Poller` is left to the watchers' own timers: the holder polls for the
 * watchers of every replica, whose deadlines it does not know.
 */
export class SharedPoller<K extends LiveKind> {
  private readonly listeners = new Set<PollListener<Watched[K]>>();
  private membership: PollMembership | undefined;
  private leader: Poller<K> | undefined;
  /** Whether this replica holds the lease (it polls once its place under the cap is taken). */
  private leading = false;
  /** Counts the leases taken, so an admission that comes back after the lease was lost is dropped. */
  private term = 0;
  /** Its place under the cap on polled objects while it polls. */
  private place: { release(): void } | undefined;
  private current: Extract<PollEvent<Watched[K]>, { type: 'value' }> | undefined;
  private lastFingerprint: string | undefined;
  private stopped = false;
  readonly readsUpstream: Upstream;

  constructor(
    private readonly target: TargetOf<K>,
    /** The same on every replica for this credential and object. */
    private readonly key: string,
    private readonly sharing: PollSharing,
    private readonly createUpstream: (signal: AbortSignal | undefined) => Upstream,
    private readonly timing: PollTiming,
    private readonly onStop: () => void,
    private readonly throttle?: <T>(read: () => Promise<T>, signal: AbortSignal) => Promise<T>,
    /**
     * A place under the credential's cap on polled objects, counted across replicas: taken by the
     * holder, which alone polls; the error that ends every watch of the object when there is none.
     */
    private readonly admitPolling?: () => Promise<{ release(): void } | GraphQLError>,
  ) {
    this.readsUpstream = createUpstream(undefined);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** As `Poller.add`; the deadline is the watcher's own timer's to keep. */
  add(listener: PollListener<Watched[K]>, _deadlineAt: number): () => void {
    if (this.stopped) throw new Error('A stopped poller cannot take listeners.');
    this.listeners.add(listener);
    const current = this.current;
    if (current) {
      queueMicrotask(() => {
        if (this.listeners.has(listener)) listener(current);
      });
    }
    this.membership ??= this.sharing.join(this.key, {
      lead: () => this.lead(),
      unlead: () => this.unlead(),
      hear: (event) => this.hear(event),
    });
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(reason?: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    if (reason) this.emit({ type: 'error', error: reason });
    this.listeners.clear();
    this.unlead();
    this.membership?.leave();
    this.onStop();
  }

  private lead(): void {
    if (this.stopped || this.leading) return;
    this.leading = true;
    const term = ++this.term;
    if (!this.admitPolling) {
      this.poll();
      return;
    }
    void this.admitPolling().then((place) => {
      const current = this.leading && !this.stopped && term === this.term;
      if (place instanceof GraphQLError) {
        if (!current) return;
        this.membership?.publish(toShared({ type: 'error', error: place }));
        this.finish({ type: 'error', error: place });
        return;
      }
      if (!current) return place.release();
      this.place = place;
      this.poll();
    });
  }

  private poll(): void {
    const leader = new Poller<K>(
      this.target,
      this.createUpstream,
      this.timing,
      () => {
        if (this.leader === leader) this.leader = undefined;
      },
      this.throttle,
    );
    this.leader = leader;
    leader.add((event) => {
      this.membership?.publish(toShared(event));
      this.deliver(event);
    }, Number.POSITIVE_INFINITY);
  }

  private unlead(): void {
    this.leading = false;
    const leader = this.leader;
    this.leader = undefined;
    leader?.stop();
    this.place?.release();
    this.place = undefined;
  }

  private hear(event: SharedPollEvent): void {
    if (this.stopped) return;
    this.deliver(fromShared<Watched[K]>(event));
  }

  /** Pushes a state only when it differs from the last one pushed, whoever polled it. */
  private deliver(event: PollEvent<Watched[K]>): void {
    if (this.stopped) return;
    if (event.type === 'error') {
      this.finish(event);
      return;
    }
    const fingerprint = behaviourOf<K>(this.target.kind as K).fingerprint(event.value);
    const changed = fingerprint !== this.lastFingerprint;
    this.lastFingerprint = fingerprint;
    this.current = event;
    if (event.terminal) this.finish(event);
    else if (changed) this.emit(event);
  }

  private emit(event: PollEvent<Watched[K]>): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  private finish(event: PollEvent<Watched[K]>): void {
    this.emit(event);
    this.stop();
  }
}

/** An event as JSON: an upstream failure keeps its code, so a relayed one reads the same. */
function toShared<T>(event: PollEvent<T>): SharedPollEvent {
  if (event.type === 'value') return { type: 'value', value: event.value, terminal: event.terminal };
  const { error } = event;
  if (error instanceof UpstreamError) {
    return { type: 'error', message: error.message, extensions: error.extensions, upstreamCode: error.code };
  }
  const extensions = error instanceof GraphQLError ? error.extensions : {};
  return { type: 'error', message: error.message, extensions: { ...extensions } };
}

function fromShared<T>(event: SharedPollEvent): PollEvent<T> {
  if (event.type === 'value') return { type: 'value', value: event.value as T, terminal: event.terminal };
  if (event.upstreamCode) {
    const { extensions } = event;
    return {
      type: 'error',
      error: new UpstreamError(event.upstreamCode as UpstreamErrorCode, event.message, {
        status: typeof extensions.upstreamStatus === 'number' ? extensions.upstreamStatus : null,
        retryAfterSeconds: typeof extensions.retryAfter === 'number' ? extensions.retryAfter : null,
        requestId: typeof extensions.upstreamRequestId === 'string' ? extensions.upstreamRequestId : null,
      }),
    };
  }
  return { type: 'error', error: new GraphQLError(event.message, { extensions: event.extensions }) };
}
