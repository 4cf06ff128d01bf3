import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
/**
 * Scrubbing secrets out of what the gateway prints: OpenAI key shapes, and the literal secrets the
 * process holds (configured keys, gateway tokens). Logs and metric labels both go through it.
 */
export const REDACTED = '[redacted]';
/** Keeps the `sk-` so a reader still sees that an OpenAI key (or OpenAI's masked echo of one) was there. */
export const REDACTED_KEY = 'sk-[redacted]';

/**
 * OpenAI key shapes, including the masked echo in OpenAI's 401 text ("sk-proj-****...MxYA"), whose
 * prefix and last four characters are still a fragment of the key. It also hits words such as
 * "risk-assessment"; over-redacting a log line is the cheaper mistake.
 */
const KEY_SHAPE = /sk-[A-Za-z0-9_\-*]{4,}/;

export type Scrub = (text: string) => string;

/**
 * Replaces OpenAI key shapes and the given literal secrets (gateway tokens, configured keys) in a
 * string. Each secret is also matched in its JSON-escaped and URL-encoded forms, because that is
 * how it appears inside a serialized log line or a logged URL.
 */
export function createScrubber(secrets: readonly string[] = []): Scrub {
  const { pattern, literals } = secretPattern(secrets);
  return (text) => text.replace(pattern, (match) => (literals.has(match) ? REDACTED : REDACTED_KEY));
}

export function secretPattern(secrets: readonly string[]): { pattern: RegExp; literals: Set<string> } {
  const literals = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    literals.add(secret);
    literals.add(JSON.stringify(secret).slice(1, -1));
    literals.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret that contains another is replaced whole.
  const alternatives = [...literals].sort((a, b) => b.length - a.length).map(escapeRegExp);
  alternatives.push(KEY_SHAPE.source);
  return { pattern: new RegExp(alternatives.join('|'), 'g'), literals };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Deep enough for any log call the gateway makes; deeper values are left to the line-level pass. */
const MAX_SCRUB_DEPTH = 8;

/**
 * A scrubbed copy of a value about to be logged. Errors stay Errors of the same class, so pino still
 * takes `message` as the line's `msg` and its err serializer still reports the type; their message,
 * stack, cause and enumerable fields are scrubbed. Any other class instance (a Request, Headers, an
 * AbortSignal, a class of ours) becomes what JSON would print for it, as plain data: its `toJSON()`
 * (a URL's href, a Date), or a plain object of its own enumerable fields. A Node request or
 * response becomes the `{ req }` or `{ res }` pino would make of it, censored like any other
 * object. Binary data is logged as its size only. This one pass is the logger's only redaction:
 * pino's own `redact` walked every line a second time (2% of a request's CPU) and reached fixed
 * depths only.
 */
export function scrubValue(value: unknown, scrub: Scrub): unknown {
  return scrubInner(nodeHttpMessage(value) ?? value, scrub, 0, new WeakMap());
}

/**
 * What pino's log method makes of a Node request or response given as the first argument
 * (`{ req }` / `{ res }`, with pino-std-serializers, as pino 10's tools.js tests for them);
 * undefined for anything else.
 */
function nodeHttpMessage(value: unknown): object | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const candidate = value as { method?: unknown; headers?: unknown; socket?: unknown; setHeader?: unknown };
  if (candidate.method && candidate.headers && candidate.socket) {
    return pino.stdSerializers.mapHttpRequest(value as IncomingMessage);
  }
  if (typeof candidate.setHeader === 'function') {
    return pino.stdSerializers.mapHttpResponse(value as ServerResponse);
  }
  return undefined;
}

const UNSERIALIZABLE = '[unserializable]';

function scrubInner(value: unknown, scrub: Scrub, depth: number, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return scrub(value);
  if (typeof value !== 'object' || value === null || depth > MAX_SCRUB_DEPTH) return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(scrubInner(item, scrub, depth + 1, seen));
    return copy;
  }
  if (value instanceof Error) return scrubError(value, scrub, depth, seen);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    // Its bytes would print as numbers no text pass can scrub, and a redaction copy of one throws.
    return `[${value.constructor.name} of ${value.byteLength} bytes]`;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    try {
      // Headers print as {} in JSON; their entries say more, and credential ones are censored below.
      if (Object.prototype.toString.call(value) === '[object Headers]') {
        return scrubInner(Object.fromEntries(value as Headers), scrub, depth + 1, seen);
      }
      const toJSON: unknown = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return scrubInner(toJSON.call(value), scrub, depth + 1, seen);
    } catch {
      return UNSERIALIZABLE;
    }
  }
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  let entries: Array<[string, unknown]>;
  try {
    // Own enumerable fields, read on the object itself (its own getters get their real receiver).
    entries = Object.entries(value);
  } catch {
    return UNSERIALIZABLE;
  }
  for (const [key, item] of entries) {
    copy[scrub(key)] =
      SENSITIVE_KEYS.has(key.toLowerCase()) && item != null
        ? REDACTED
        : scrubInner(item, scrub, depth + 1, seen);
  }
  return copy;
}

/**
 * Fields censored whole at any depth of a logged plain object, whatever they hold: a credential
 * header may carry a token or key that matches no known shape and was not configured (a wrong one,
 * a caller's own).
 */
const SENSITIVE_KEYS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-openai-api-key',
  'x-api-key',
  'api-key',
  'api_key',
  'apikey',
  'token',
  'access_token',
  'refresh_token',
  'password',
  'secret',
  'encrypteddata',
]);

/** Non-enumerable fields that pino's err serializer reads anyway. */
const SERIALIZED_ERROR_FIELDS = new Set<PropertyKey>(['message', 'stack', 'cause', 'errors']);

/**
 * `stack` is an own data property up to V8 11 (Node 20) and an own accessor pair since V8 11.8
 * (Node 21 on) whose getter answers only for the error it was captured on: on a copy it returns
 * undefined. `message` can be a class getter. So the printed fields are read on the original,
 * wherever they live, and set on the copy as plain data, the same on every Node version.
 */
function scrubError(error: Error, scrub: Scrub, depth: number, seen: WeakMap<object, unknown>): Error {
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error;
  seen.set(error, copy);
  const keys = new Set<PropertyKey>(Reflect.ownKeys(error));
  for (const key of SERIALIZED_ERROR_FIELDS) if (key in error) keys.add(key);
  for (const key of keys) {
    const descriptor = Object.getOwnPropertyDescriptor(error, key);
    const enumerable = descriptor?.enumerable ?? false;
    if (!(enumerable || SERIALIZED_ERROR_FIELDS.has(key))) {
      // Fields JSON never prints (a GraphQLError's AST nodes, its originalError) are not worth a
      // walk; accessors among them are dropped, since their getters may need the original.
      if (descriptor && 'value' in descriptor) Object.defineProperty(copy, key, descriptor);
      continue;
    }
    let value: unknown;
    try {
      value = Reflect.get(error, key);
    } catch {
      value = UNSERIALIZABLE;
    }
    if (value === undefined && !descriptor) continue;
    Object.defineProperty(copy, key, {
      value: scrubInner(value, scrub, depth + 1, seen),
      writable: true,
      enumerable,
      configurable: true,
    });
  }
  return copy;
}

/** A JSON string literal, escapes included. */
const JSON_STRING = /"(?:[^"\\]|\\.)*"/g;

/**
 * Scrubs a serialized JSON line inside its string literals only, so the result is always valid
 * JSON even for a secret that looks like a number or a keyword.
 */
export function scrubJsonLine(line: string, scrub: Scrub, probe: RegExp): string {
  if (!probe.test(line)) return line;
  return line.replace(JSON_STRING, (literal) => scrub(literal));
}
