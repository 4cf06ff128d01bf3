import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import type { Grant } from './http/use-access.ts';
import { isMultipart } from './http/use-body-limit.ts';
import { isSubscriptionRequest } from './live/operation.ts';
import type { LiveRegistry, LiveSession } from './live/registry.ts';
import { createLoaders, type Loaders } from './schema/loaders.ts';
import { type LinkedSignal, linkSignals } from './signals.ts';
import type { UploadLimits } from './uploads/parse.ts';
import { Upstream, UpstreamBudget, type UpstreamCall, type UpstreamPolicy } from './upstream/index.ts';

/**
 * Built fresh for every request and read-only after: one credential, one set of loaders (but a
 * subscription's loaders follow each state it delivers; see schema/subscriptions.ts).
 */
export interface Context {
  requestId: string;
  /** Aborts when the client goes away or the operation's deadline passes. */
  signal: AbortSignal;
  upstream: Upstream;
  /** The upstream calls this operation may still make: its estimate, once priced. */
  budget: UpstreamBudget;
  loaders: Loaders;
  uploadLimits: UploadLimits;
  /** Processing status watches, on pollers shared process-wide per credential and object. */
  live: LiveSession;
  /**
   * Where this gateway is reached, without a trailing slash (`https://host/prefix`): the
   * configured public URL, else the origin the request came to. Links in answers start with it.
   */
  publicUrl: string;
  credential: {
    /** The credential this request uses; null when the caller sent its own key. */
    name: string | null;
    /** The credentials this caller may use. */
    available: readonly string[];
  };
}

export interface Deadlines {
  /** Deadline of one GraphQL operation. */
  operationMs: number;
  /** Deadline of an operation that streams uploads, which lasts as long as the client sends. */
  uploadMs: number;
}

export const defaultDeadlines: Deadlines = { operationMs: 60_000, uploadMs: 30 * 60_000 };

/** Whose an upstream call was: the request, and its credential's name (null for a caller's key). */
export interface UpstreamCallSource {
  request: Request;
  requestId: string;
  credential: string | null;
}

export interface ContextDependencies {
  policy: UpstreamPolicy;
  deadlines: Deadlines;
  uploadLimits: UploadLimits;
  live: LiveRegistry;
  /** Where clients reach the gateway, when a proxy in front makes the request's own URL wrong. */
  publicUrl?: string | undefined;
  /** Off only to measure what batching saves. */
  batching: boolean;
  grantOf(request: Request): Grant | undefined;
  requestIdOf(request: Request): string;
  /** Every upstream call of a request, with the request and the credential's name. */
  onUpstreamCall(call: UpstreamCall, from: UpstreamCallSource): void;
}

export interface RequestContexts {
  /** yoga's `context` option. */
  build(initial: YogaInitialContext): Context;
  /**
   * The door upstream for a request served outside GraphQL (a File's content): the request's
   * credential, signal and call reporting, with `calls` calls to spend; undefined when the
   * request has no access decision.
   */
  upstreamFor(request: Request, calls: number): Upstream | undefined;
  /**
   * Ends a request's deadline, detaches its signals and settles its leftovers (what its uploads
   * made is now its client's), once its operation is over: the plugin
   * does it for HTTP answers, a transport without yoga's HTTP hooks (WebSockets) calls it itself.
   */
  release(request: Request): void;
  /** Ends each request's deadline once its answer is ready (a streamed answer keeps its own). */
  plugin: Plugin;
}

export function createRequestContexts(deps: ContextDependencies): RequestContexts {
  const scopes = new WeakMap<Request, { signal: LinkedSignal; upstream: Upstream }>();
  const scopeOf = (request: Request, grant: Grant, signal: AbortSignal, budget: UpstreamBudget) => {
    const requestId = deps.requestIdOf(request);
    const credential = grant.access.credential;
    return new Upstream(grant.client, deps.policy, {
      signal,
      budget,
      onCall: (call) => deps.onUpstreamCall(call, { request, requestId, credential }),
    });
  };
  const release = (request: Request) => {
    const scope = scopes.get(request);
    if (!scope) return;
    scope.signal.release();
    scope.upstream.settleLeftovers();
    scopes.delete(request);
  };
  return {
    release,
    upstreamFor(request, calls) {
      const grant = deps.grantOf(request);
      if (!grant) return undefined;
      const budget = new UpstreamBudget();
      budget.setLimit(calls);
      return scopeOf(request, grant, request.signal, budget);
    },
    build({ request, params }) {
      const grant = deps.grantOf(request);
      // Every GraphQL request passes the access plugin first, which grants or refuses it.
      if (!grant) throw new Error('A request reached GraphQL without an access decision.');
      const requestId = deps.requestIdOf(request);
      const credential = grant.access.credential;
      // A subscription ends at its own deadline (`deadlineSeconds`); the operation's would cut
      // the upstream calls of its later events.
      const deadlineMs = isSubscriptionRequest(params)
        ? undefined
        : isMultipart(request)
          ? deps.deadlines.uploadMs
          : deps.deadlines.operationMs;
      const signal = linkSignals([request.signal], deadlineMs);
      const budget = new UpstreamBudget();
      const upstream = scopeOf(request, grant, signal.signal, budget);
      scopes.set(request, { signal, upstream });
      return {
        requestId,
        signal: signal.signal,
        upstream,
        budget,
        loaders: createLoaders(upstream, { batching: deps.batching }),
        uploadLimits: deps.uploadLimits,
        publicUrl: (deps.publicUrl ?? new URL(request.url).origin).replace(/\/+$/, ''),
        live: deps.live.session({
          credential,
          callerKey: grant.access.callerKey,
          client: grant.client,
          signal: request.signal,
          token: grant.access.token,
        }),
        credential: { name: credential, available: grant.access.available },
      };
    },
    plugin: {
      onResponse({ request, response }) {
        // A streamed answer's operation has run its mutations by now: what they made is its
        // client's (or was undone), whatever the deferred parts still read.
        if (isStream(response)) scopes.get(request)?.upstream.settleLeftovers();
        else release(request);
      },
    },
  };
}

function isStream(response: Response): boolean {
  const type = response.headers.get('content-type') ?? '';
  return type.startsWith('text/event-stream') || type.startsWith('multipart/mixed');
}
