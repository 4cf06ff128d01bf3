/**
 * Who may reach the gateway from a browser: the origins whose pages may call it cross-origin
 * (CORS, and the `Origin` of a WebSocket upgrade), and the host names it answers to when no
 * token guards it (DNS rebinding). Both are decided here, once, for every transport.
 */

/** The origins of pages on other origins allowed to call the gateway; none by default. */
export interface OriginPolicy {
  /** The configured origins, normalised (`https://app.example.com`). */
  readonly origins: readonly string[];
  /** Whether a request with this `Origin` header may be answered with CORS headers. */
  allows(origin: string | null | undefined): boolean;
}

/**
 * An origin as a browser sends it: scheme, host and port only. Throws on anything else, so a
 * configured `https://app.example.com/` or a path is caught at start, not silently never matched.
 */
export function normaliseOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`not an origin: ${JSON.stringify(value)} (give e.g. https://app.example.com)`);
  }
  if (!/^https?:$/.test(url.protocol) || url.origin === 'null') {
    throw new Error(`not an http(s) origin: ${JSON.stringify(value)}`);
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new Error(`an origin has no path, query or credentials: ${JSON.stringify(value)}`);
  }
  return url.origin;
}

export function originPolicy(origins: readonly string[] = []): OriginPolicy {
  const list = [...new Set(origins.map(normaliseOrigin))];
  const allowed = new Set(list);
  return {
    origins: list,
    allows: (origin) => origin !== null && origin !== undefined && allowed.has(origin),
  };
}

/** Host names that always reach the machine itself, so a rebinding page cannot take them. */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Which `Host` headers the gateway answers; every one when tokens guard it. */
export interface HostPolicy {
  allows(host: string | null | undefined): boolean;
}

/**
 * With tokens, a rebinding page has nothing to gain (it cannot attach the token), so every host
 * is served, as proxies and load balancers need. Without them, only loopback names (`localhost`,
 * `*.localhost`, 127.0.0.1, [::1]) and the configured hosts are: a page on an attacker's domain
 * that rebinds its name to 127.0.0.1 still sends its own name as `Host`.
 */
export function hostPolicy(options: { tokens: boolean; allowedHosts?: readonly string[] }): HostPolicy {
  if (options.tokens) return { allows: () => true };
  const configured = new Set((options.allowedHosts ?? []).map((host) => host.toLowerCase()));
  return {
    allows(host) {
      if (!host) return false;
      const name = hostName(host.toLowerCase());
      if (name === null) return false;
      return (
        LOOPBACK_NAMES.has(name) ||
        name.endsWith('.localhost') ||
        configured.has(name) ||
        configured.has(host.toLowerCase())
      );
    },
  };
}

/** The name of a `Host` header without its port; null when it is not a host. */
function hostName(host: string): string | null {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(host);
  return match?.[1] ?? null;
}
