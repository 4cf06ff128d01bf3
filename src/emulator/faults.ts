/**
 * Fault injection for /v1 requests: latency with jitter, 5xx, 429 with Retry-After, connection
 * resets and stalls. Every random draw comes from one seeded PRNG that restarts whenever faults
 * are configured, so the same configuration and request sequence give the same faults.
 */
import { badRequest } from './errors.ts';
import { isObject, type JsonObject } from './validation.ts';

export interface FaultRule {
  latencyMs?: number;
  jitterMs?: number;
  errorRate?: number;
  errorStatus?: 500 | 502 | 503;
  rateLimitRate?: number;
  /** Sent as Retry-After on injected 429s; default 1. The SDK sleeps it in full, so keep it small. */
  retryAfterSeconds?: number;
  /** Destroys the socket without a response. */
  resetRate?: number;
  /** Applies to every matching request: never send headers, or stop half-way through the body. */
  stall?: 'headers' | 'body';
}

export interface FaultConfig extends FaultRule {
  seed?: number;
  /** Keyed like stats: "POST /v1/files". A route rule's fields override the global ones. */
  routes?: Record<string, FaultRule>;
  /**
   * Keyed by method and concrete path: "GET /v1/vector_stores/vs_abc/files", to fail one object's
   * calls while its siblings' go through. Its fields override the route's and the global ones.
   */
  paths?: Record<string, FaultRule>;
}

export type FaultAction =
  | { kind: 'none' }
  | { kind: 'reset' }
  | { kind: 'stall'; stage: 'headers' | 'body' }
  | { kind: 'rate_limit'; retryAfterSeconds: number }
  | { kind: 'error'; status: 500 | 502 | 503 };

export interface FaultDecision {
  delayMs: number;
  action: FaultAction;
}

/** mulberry32: tiny, fast and good enough to make fault sequences reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private config: FaultConfig | null = null;
  private random: () => number;

  constructor(private readonly defaultSeed: number) {
    this.random = mulberry32(defaultSeed);
  }

  set(config: FaultConfig | null): void {
    const empty = !config || Object.keys(config).length === 0;
    this.config = empty ? null : config;
    this.random = mulberry32(config?.seed ?? this.defaultSeed);
  }

  current(): FaultConfig | null {
    return this.config;
  }

  /** `pathKey` is the method and the concrete path: "GET /v1/vector_stores/vs_abc". */
  decide(routeKey: string, pathKey = ''): FaultDecision {
    if (!this.config) return { delayMs: 0, action: { kind: 'none' } };
    const rule: FaultRule = {
      ...this.config,
      ...this.config.routes?.[routeKey],
      ...this.config.paths?.[pathKey],
    };
    const chance = (rate: number | undefined): boolean =>
      rate !== undefined && rate > 0 && this.random() < rate;

    let delayMs = rule.latencyMs ?? 0;
    if (rule.jitterMs) delayMs += Math.round(this.random() * rule.jitterMs);
    let action: FaultAction = { kind: 'none' };
    if (rule.stall) action = { kind: 'stall', stage: rule.stall };
    else if (chance(rule.resetRate)) action = { kind: 'reset' };
    else if (chance(rule.rateLimitRate))
      action = { kind: 'rate_limit', retryAfterSeconds: rule.retryAfterSeconds ?? 1 };
    else if (chance(rule.errorRate)) action = { kind: 'error', status: rule.errorStatus ?? 500 };
    return { delayMs, action };
  }
}

function rate(value: unknown, param: string): number {
  if (typeof value !== 'number' || value < 0 || value > 1)
    throw badRequest(`'${param}' must be a number between 0 and 1.`, param);
  return value;
}

function duration(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw badRequest(`'${param}' must be a non-negative integer.`, param);
  }
  return value;
}

function parseRule(raw: JsonObject, path: string): FaultRule {
  const rule: FaultRule = {};
  for (const [key, value] of Object.entries(raw)) {
    const param = `${path}${key}`;
    switch (key) {
      case 'errorRate':
      case 'rateLimitRate':
      case 'resetRate':
        rule[key] = rate(value, param);
        break;
      case 'latencyMs':
      case 'jitterMs':
      case 'retryAfterSeconds':
        rule[key] = duration(value, param);
        break;
      case 'errorStatus':
        if (value !== 500 && value !== 502 && value !== 503)
          throw badRequest(`'${param}' must be 500, 502 or 503.`, param);
        rule.errorStatus = value;
        break;
      case 'stall':
        if (value !== 'headers' && value !== 'body')
          throw badRequest(`'${param}' must be 'headers' or 'body'.`, param);
        rule.stall = value;
        break;
      default:
        throw badRequest(`Unknown fault setting: '${param}'.`, param);
    }
  }
  return rule;
}

/** Validates a control-plane fault body; route keys must name real routes so typos fail loudly. */
export function parseFaultConfig(raw: unknown, routeKeys: readonly string[]): FaultConfig | null {
  if (raw === null || raw === undefined) return null;
  if (!isObject(raw)) throw badRequest('The fault configuration must be a JSON object or null.');
  const { seed, routes, paths, ...global } = raw;
  const config: FaultConfig = parseRule(global, '');
  if (seed !== undefined) {
    if (typeof seed !== 'number' || !Number.isInteger(seed))
      throw badRequest("'seed' must be an integer.", 'seed');
    config.seed = seed;
  }
  if (routes !== undefined) {
    if (!isObject(routes)) throw badRequest("'routes' must be an object keyed by route.", 'routes');
    config.routes = {};
    for (const [key, rule] of Object.entries(routes)) {
      if (!routeKeys.includes(key)) {
        throw badRequest(`Unknown route '${key}'. Known routes: ${routeKeys.join(', ')}.`, `routes.${key}`);
      }
      if (!isObject(rule)) throw badRequest(`'routes.${key}' must be an object.`, `routes.${key}`);
      config.routes[key] = parseRule(rule, `routes.${key}.`);
    }
  }
  if (paths !== undefined) {
    if (!isObject(paths)) throw badRequest("'paths' must be an object keyed by method and path.", 'paths');
    config.paths = {};
    for (const [key, rule] of Object.entries(paths)) {
      if (!/^(GET|POST|DELETE) \/v1\/\S+$/.test(key)) {
        throw badRequest(
          `'paths.${key}' must be a method and a /v1 path, e.g. 'GET /v1/files'.`,
          `paths.${key}`,
        );
      }
      if (!isObject(rule)) throw badRequest(`'paths.${key}' must be an object.`, `paths.${key}`);
      config.paths[key] = parseRule(rule, `paths.${key}.`);
    }
  }
  return config;
}
