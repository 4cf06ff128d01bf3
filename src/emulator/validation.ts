/**
 * Request validation with OpenAI's messages, codes and `param` paths. Hand-written rather than
 * schema-driven because the value of the emulator lies in the exact wording, which a generic
 * validator would not produce.
 */
import {
  arrayTooLong,
  badRequest,
  emptyArray,
  integerOutOfRange,
  invalidEnum,
  invalidType,
  invalidValue,
  missingParameter,
  numberOutOfRange,
  stringTooLong,
  unknownParameter,
  wrongIdPrefix,
} from './errors.ts';

export type JsonObject = Record<string, unknown>;
export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue>;
export type Metadata = Record<string, string>;

export interface StaticChunking {
  maxChunkSizeTokens: number;
  chunkOverlapTokens: number;
}

export interface VectorStoreExpiry {
  anchor: 'last_active_at';
  days: number;
}

/** What `{"type":"auto"}` currently means, and how the real API reports it back. */
export const AUTO_CHUNKING: StaticChunking = { maxChunkSizeTokens: 800, chunkOverlapTokens: 400 };

const MAX_PAIRS = 16;
const MAX_KEY_LENGTH = 64;
const MAX_STRING_VALUE_LENGTH = 512;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function expectObject(value: unknown, param: string): JsonObject {
  if (!isObject(value)) throw invalidType(param, 'an object', value);
  return value;
}

export function rejectUnknownKeys(object: JsonObject, allowed: readonly string[], prefix = ''): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) throw unknownParameter(`${prefix}${key}`);
  }
}

export function optionalString(value: unknown, param: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidType(param, 'a string', value);
  return value;
}

export function optionalNullableString(value: unknown, param: string): string | null | undefined {
  return value === null ? null : optionalString(value, param);
}

export function expectInteger(value: unknown, param: string, bound: { min?: number; max?: number }): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidType(param, 'an integer', value);
  if ((bound.min !== undefined && value < bound.min) || (bound.max !== undefined && value > bound.max)) {
    throw integerOutOfRange(param, value, bound);
  }
  return value;
}

export function expectNumber(value: unknown, param: string, bound: { min: number; max: number }): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidType(param, 'a number', value);
  if (value < bound.min || value > bound.max) throw numberOutOfRange(param, value, bound);
  return value;
}

export function expectBoolean(value: unknown, param: string): boolean {
  if (typeof value !== 'boolean') throw invalidType(param, 'a boolean', value);
  return value;
}

/** An object id from a path or body, checked for the prefix its kind must carry. */
export function expectId(value: unknown, param: string, prefix: string): string {
  if (typeof value !== 'string') throw invalidType(param, 'a string', value);
  if (!value.startsWith(prefix) || value.length === prefix.length) throw wrongIdPrefix(param, value, prefix);
  return value;
}

export function expectArray(value: unknown, param: string, bound: { min: number; max: number }): unknown[] {
  if (!Array.isArray(value)) throw invalidType(param, 'an array', value);
  if (value.length < bound.min) throw emptyArray(param);
  if (value.length > bound.max) throw arrayTooLong(param, bound.max, value.length);
  return value;
}

function checkPairs(object: JsonObject, param: string): void {
  const count = Object.keys(object).length;
  if (count > MAX_PAIRS) {
    throw badRequest(
      `Invalid '${param}': too many properties. Expected an object with at most ${MAX_PAIRS} properties, but got an object with ${count} properties instead.`,
      param,
      'object_above_max_properties',
    );
  }
  for (const key of Object.keys(object)) {
    if (key.length > MAX_KEY_LENGTH) {
      throw badRequest(
        `Invalid '${param}': key too long. Expected keys with maximum length ${MAX_KEY_LENGTH}, but got a key with length ${key.length} instead.`,
        param,
        'invalid_value',
      );
    }
  }
}

/** Vector-store metadata: up to 16 pairs, keys <= 64 chars, string values <= 512 chars. */
export function parseMetadata(value: unknown, param = 'metadata'): Metadata | null {
  if (value === null) return null;
  const object = expectObject(value, param);
  checkPairs(object, param);
  const metadata: Metadata = {};
  for (const [key, item] of Object.entries(object)) {
    const itemParam = `${param}.${key}`;
    if (typeof item !== 'string') throw invalidType(itemParam, 'a string', item);
    if (item.length > MAX_STRING_VALUE_LENGTH)
      throw stringTooLong(itemParam, MAX_STRING_VALUE_LENGTH, item.length);
    metadata[key] = item;
  }
  return metadata;
}

/** File attributes: like metadata, but values may also be numbers or booleans. */
export function parseAttributes(value: unknown, param = 'attributes'): Attributes | null {
  if (value === null) return null;
  const object = expectObject(value, param);
  checkPairs(object, param);
  const attributes: Attributes = {};
  for (const [key, item] of Object.entries(object)) {
    const itemParam = `${param}.${key}`;
    if (typeof item === 'string') {
      if (item.length > MAX_STRING_VALUE_LENGTH)
        throw stringTooLong(itemParam, MAX_STRING_VALUE_LENGTH, item.length);
    } else if (typeof item === 'number') {
      if (!Number.isFinite(item)) throw invalidType(itemParam, 'a number', item);
    } else if (typeof item !== 'boolean') {
      throw badRequest(
        `Invalid type for '${itemParam}': expected a string, number or boolean, but got ${item === null ? 'null' : Array.isArray(item) ? 'an array' : 'an object'} instead.`,
        itemParam,
        'invalid_type',
      );
    }
    attributes[key] = item;
  }
  return attributes;
}

/** Resolves `auto` to the static values the API reports, so callers only ever see one shape. */
export function parseChunkingStrategy(value: unknown, param = 'chunking_strategy'): StaticChunking {
  const object = expectObject(value, param);
  const type = object.type;
  if (type === undefined) throw missingParameter(`${param}.type`);
  if (typeof type !== 'string') throw invalidType(`${param}.type`, 'a string', type);
  if (type === 'auto') {
    rejectUnknownKeys(object, ['type'], `${param}.`);
    return AUTO_CHUNKING;
  }
  if (type !== 'static') throw invalidEnum(`${param}.type`, type, ['auto', 'static']);
  rejectUnknownKeys(object, ['type', 'static'], `${param}.`);
  if (object.static === undefined) throw missingParameter(`${param}.static`);
  const staticParam = `${param}.static`;
  const settings = expectObject(object.static, staticParam);
  rejectUnknownKeys(settings, ['max_chunk_size_tokens', 'chunk_overlap_tokens'], `${staticParam}.`);
  if (settings.max_chunk_size_tokens === undefined)
    throw missingParameter(`${staticParam}.max_chunk_size_tokens`);
  if (settings.chunk_overlap_tokens === undefined)
    throw missingParameter(`${staticParam}.chunk_overlap_tokens`);
  const max = expectInteger(settings.max_chunk_size_tokens, `${staticParam}.max_chunk_size_tokens`, {
    min: 100,
    max: 4096,
  });
  const overlapParam = `${staticParam}.chunk_overlap_tokens`;
  const overlap = expectInteger(settings.chunk_overlap_tokens, overlapParam, { min: 0 });
  if (overlap > max / 2) {
    throw invalidValue(
      overlapParam,
      `chunk_overlap_tokens must not exceed half of max_chunk_size_tokens. Expected a value <= ${Math.floor(max / 2)}, but got ${overlap} instead.`,
    );
  }
  return { maxChunkSizeTokens: max, chunkOverlapTokens: overlap };
}

/** FileExpirationAfter: `seconds` from 1 hour to 30 days after `created_at`. */
export const FILE_EXPIRY_SECONDS = { min: 3600, max: 2_592_000 };

/** FileExpirationAfter in a JSON body (`/uploads`); returns the lifetime in seconds. */
export function parseFileExpiry(value: unknown, param = 'expires_after'): number {
  const object = expectObject(value, param);
  rejectUnknownKeys(object, ['anchor', 'seconds'], `${param}.`);
  if (object.anchor === undefined) throw missingParameter(`${param}.anchor`);
  if (object.anchor !== 'created_at') {
    if (typeof object.anchor !== 'string') throw invalidType(`${param}.anchor`, 'a string', object.anchor);
    throw invalidEnum(`${param}.anchor`, object.anchor, ['created_at']);
  }
  if (object.seconds === undefined) throw missingParameter(`${param}.seconds`);
  return expectInteger(object.seconds, `${param}.seconds`, FILE_EXPIRY_SECONDS);
}

export function parseVectorStoreExpiry(value: unknown, param = 'expires_after'): VectorStoreExpiry {
  const object = expectObject(value, param);
  rejectUnknownKeys(object, ['anchor', 'days'], `${param}.`);
  if (object.anchor === undefined) throw missingParameter(`${param}.anchor`);
  if (object.anchor !== 'last_active_at') {
    if (typeof object.anchor !== 'string') throw invalidType(`${param}.anchor`, 'a string', object.anchor);
    throw invalidEnum(`${param}.anchor`, object.anchor, ['last_active_at']);
  }
  if (object.days === undefined) throw missingParameter(`${param}.days`);
  const days = expectInteger(object.days, `${param}.days`, { min: 1, max: 365 });
  return { anchor: 'last_active_at', days };
}

/**
 * An integer sent as text (query strings, multipart fields), with the messages the API uses for
 * the same mistakes in a JSON body.
 */
export function parseIntegerText(raw: string, param: string, bound: { min?: number; max?: number }): number {
  if (!/^-?\d+$/.test(raw.trim())) {
    throw badRequest(
      `Invalid type for '${param}': expected an integer, but got a string ('${raw}') instead.`,
      param,
      'invalid_type',
    );
  }
  return expectInteger(Number(raw), param, bound);
}

export type SortOrder = 'asc' | 'desc';

export interface ListParams {
  limit: number;
  order: SortOrder;
  after: string | undefined;
  before: string | undefined;
}

export function parseListParams(
  query: URLSearchParams,
  options: { defaultLimit: number; maxLimit: number; allowBefore: boolean },
): ListParams {
  const rawLimit = query.get('limit');
  const limit =
    rawLimit === null
      ? options.defaultLimit
      : parseIntegerText(rawLimit, 'limit', { min: 1, max: options.maxLimit });
  const rawOrder = query.get('order') ?? 'desc';
  if (rawOrder !== 'asc' && rawOrder !== 'desc') throw invalidEnum('order', rawOrder, ['asc', 'desc']);
  const after = query.get('after') || undefined;
  const before = options.allowBefore ? query.get('before') || undefined : undefined;
  return { limit, order: rawOrder, after, before };
}

export function parseEnumQuery<T extends string>(
  query: URLSearchParams,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw invalidEnum(name, raw, allowed);
  return raw as T;
}
