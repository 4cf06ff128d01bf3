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
 * stack, cause and enumerable fields are scrubbed. Other class instances (IncomingMessage, Headers,
 * Buffer...) are passed through untouched: walking them would be costly or would change how pino
 * serializes them, and the line-level pass still covers what they print.
 */
export function scrubValue(value: unknown, scrub: Scrub): unknown {
  return scrubInner(value, scrub, 0, new WeakMap());
}

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
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    // What JSON would print anyway (a URL's href, say), taken now so it is scrubbed with the rest:
    // pino's wildcard redaction cannot copy such objects and prints them as unserializable.
    const toJSON: unknown = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON !== 'function' || ArrayBuffer.isView(value)) return value;
    try {
      return scrubInner(toJSON.call(value), scrub, depth + 1, seen);
    } catch {
      return value;
    }
  }
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  for (const [key, item] of Object.entries(value)) {
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
 * a caller's own). pino's `redact` paths below only reach fixed depths.
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

function scrubError(error: Error, scrub: Scrub, depth: number, seen: WeakMap<object, unknown>): Error {
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error;
  seen.set(error, copy);
  for (const key of Reflect.ownKeys(error)) {
    const descriptor = Object.getOwnPropertyDescriptor(error, key);
    if (!descriptor) continue;
    // Fields JSON never prints (a GraphQLError's AST nodes, its originalError) are not worth a walk.
    if ('value' in descriptor && (descriptor.enumerable || SERIALIZED_ERROR_FIELDS.has(key))) {
      descriptor.value = scrubInner(descriptor.value, scrub, depth + 1, seen);
    }
    Object.defineProperty(copy, key, descriptor);
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
