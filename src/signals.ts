import { getMaxListeners, setMaxListeners } from 'node:events';

/**
 * The one way the gateway combines abort signals (a client that goes away, an operation's
 * deadline, a call's deadline).
 *
 * Not `AbortSignal.any`: on Node 20 a signal from `AbortSignal.any` or `AbortSignal.timeout` that
 * has an abort listener is held by Node itself until that listener is removed (a timeout's, until
 * it fires), and the openai SDK adds a listener to the signal it is given and never removes it, so
 * every upstream call leaked its signal and what it holds. A plain controller's signal has no such
 * hold on any Node version, and `release` takes the link's own listeners off its sources once the
 * work is done, so a long-lived source (a request's signal) does not collect listeners either.
 */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Whether its own deadline aborted it (not a source). */
  readonly timedOut: boolean;
  /** Detaches from the sources and clears the deadline; call it when the work it guards is over. */
  release(): void;
}

const NOTHING_TO_RELEASE = () => {};

/**
 * Links one source may hold at once before Node warns of a leak. A request's signal is shared by
 * every upstream call of its operation, each linked while it waits for its turn and runs (a
 * 20-store dashboard holds 20 at once), and each released when its call ends: what grows with
 * the calls in flight is no leak. The operation's call budget (150 by default) bounds them, so
 * Node's leak warning still fires well past anything an operation may legitimately hold.
 */
const MAX_LINKS_PER_SOURCE = 1000;

/**
 * Kinds (constructors) of signal Node refused. The Node adapter's request signal is whatwg-node's,
 * which Node refuses here: one per request, and each refusal builds an error with its stack (about
 * 2% of a plain query's CPU time), so a kind is tried once. Not keyed by prototype: whatwg-node's
 * signal is a Proxy that claims AbortSignal.prototype, which Node's own signals have too.
 */
const refusedKinds = new WeakSet<object>();

function allowLinks(source: AbortSignal): void {
  const kind = source.constructor;
  if (refusedKinds.has(kind)) return;
  try {
    if (getMaxListeners(source) < MAX_LINKS_PER_SOURCE) setMaxListeners(MAX_LINKS_PER_SOURCE, source);
  } catch {
    // Not one of Node's own signals: Node counts no listeners on it, so there is no warning to avoid.
    refusedKinds.add(kind);
  }
}

/**
 * A signal that aborts with the first source to abort, with that source's reason, or, given
 * `timeoutMs`, with a `TimeoutError` once that has passed (a deadline that `release` clears, so one
 * that is not reached holds nothing afterwards). One controller and at most one timer: every
 * request and every upstream call makes one, so a deadline is not a controller of its own.
 */
export function linkSignals(
  sources: ReadonlyArray<AbortSignal | undefined>,
  timeoutMs?: number,
): LinkedSignal {
  const present = sources.filter((source): source is AbortSignal => source !== undefined);
  const controller = new AbortController();
  const aborted = present.find((source) => source.aborted);
  if (aborted) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, timedOut: false, release: NOTHING_TO_RELEASE };
  }
  const onAbort = (event: Event) => controller.abort((event.target as AbortSignal).reason);
  for (const source of present) {
    allowLinks(source);
    source.addEventListener('abort', onAbort, { once: true });
  }
  let timedOut = false;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          if (controller.signal.aborted) return;
          timedOut = true;
          controller.abort(new DOMException('The operation timed out.', 'TimeoutError'));
        }, timeoutMs);
  // A pending deadline alone must not keep the process alive.
  timer?.unref();
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    release() {
      clearTimeout(timer);
      for (const source of present) source.removeEventListener('abort', onAbort);
    },
  };
}
