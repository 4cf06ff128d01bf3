/**
 * OpenAI's input rules, checked before any upstream call so a refused input costs nothing and the
 * error names the exact field (`input.metadata.lang`, `input.fileIds[3]`).
 *
 * Hand-written rather than zod: the rules are a handful of counts and lengths, and each failure
 * must name the one offending key or element. zod reports a bad record key as a nested
 * `invalid_key` issue and a bad union value as a list of alternatives, so turning its issues into
 * these paths and messages would take more code than the rules themselves.
 */
import type OpenAI from 'openai';
import type { JsonObject } from './builder.ts';
import { InvalidInputError } from './errors.ts';
import { parseFileId } from './ids.ts';

const MAX_PAIRS = 16;
const MAX_KEY_LENGTH = 64;
const MAX_STRING_VALUE_LENGTH = 512;
const EXPIRY_ANCHOR = 'last_active_at';
const EXPIRY_DAYS = { min: 1, max: 365 };

export type Metadata = Record<string, string>;
export type Attributes = Record<string, string | number | boolean>;

function checkPairs(value: JsonObject, field: string): void {
  const keys = Object.keys(value);
  if (keys.length > MAX_PAIRS) {
    throw new InvalidInputError(
      field,
      `\`${field}\` has ${keys.length} keys; at most ${MAX_PAIRS} are allowed.`,
    );
  }
  for (const key of keys) {
    if (key.length > MAX_KEY_LENGTH) {
      throw new InvalidInputError(
        `${field}.${key}`,
        `The key \`${field}.${key.slice(0, 20)}...\` has ${key.length} characters; at most ${MAX_KEY_LENGTH} are allowed.`,
      );
    }
  }
}

function checkString(value: string, field: string): void {
  if (value.length > MAX_STRING_VALUE_LENGTH) {
    throw new InvalidInputError(
      field,
      `\`${field}\` has ${value.length} characters; at most ${MAX_STRING_VALUE_LENGTH} are allowed.`,
    );
  }
}

/** Up to 16 pairs, keys up to 64 characters, string values up to 512. */
export function validateMetadata(value: JsonObject, field: string): Metadata {
  checkPairs(value, field);
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw new InvalidInputError(`${field}.${key}`, `\`${field}.${key}\` must be a string.`);
    }
    checkString(item, `${field}.${key}`);
  }
  return value as Metadata;
}

/** Up to 16 pairs, keys up to 64 characters, values a string up to 512, a number or a boolean. */
export function validateAttributes(value: JsonObject, field: string): Attributes {
  checkPairs(value, field);
  for (const [key, item] of Object.entries(value)) {
    const path = `${field}.${key}`;
    if (typeof item === 'string') checkString(item, path);
    else if (!(typeof item === 'boolean' || (typeof item === 'number' && Number.isFinite(item)))) {
      throw new InvalidInputError(path, `\`${path}\` must be a string, a number or a boolean.`);
    }
  }
  return value as Attributes;
}

export interface ExpirationPolicyInput {
  anchor?: string | null | undefined;
  days: number;
}

/** Stores expire `days` (1..365) after they were last active; OpenAI has no other anchor. */
export function validateExpiresAfter(
  value: ExpirationPolicyInput,
  field: string,
): OpenAI.VectorStores.VectorStoreCreateParams.ExpiresAfter {
  const anchor = value.anchor ?? EXPIRY_ANCHOR;
  if (anchor !== EXPIRY_ANCHOR) {
    throw new InvalidInputError(`${field}.anchor`, `\`${field}.anchor\` must be \`${EXPIRY_ANCHOR}\`.`);
  }
  if (value.days < EXPIRY_DAYS.min || value.days > EXPIRY_DAYS.max) {
    throw new InvalidInputError(
      `${field}.days`,
      `\`${field}.days\` must be between ${EXPIRY_DAYS.min} and ${EXPIRY_DAYS.max}, got ${value.days}.`,
    );
  }
  return { anchor, days: value.days };
}

export function validateCount(
  values: readonly unknown[],
  field: string,
  bounds: { min?: number; max: number },
  noun: string,
): void {
  const min = bounds.min ?? 0;
  if (values.length < min) throw new InvalidInputError(field, `Give at least ${min} ${noun}.`);
  if (values.length > bounds.max) {
    throw new InvalidInputError(
      field,
      `\`${field}\` has ${values.length} ${noun}; at most ${bounds.max} are allowed.`,
    );
  }
}

/**
 * File ids in input order, raw, with their input positions. A file named twice is kept once (at
 * its first position): attaching or removing it once is what the caller meant.
 */
export function parseFileIds(values: readonly (string | number)[], field: string): FileIdList {
  const ids: string[] = [];
  const positions: number[] = [];
  const seen = new Set<string>();
  values.forEach((value, index) => {
    const id = parseFileId(String(value), `${field}[${index}]`);
    if (seen.has(id)) return;
    seen.add(id);
    ids.push(id);
    positions.push(index);
  });
  return { ids, positions };
}

export interface FileIdList {
  ids: string[];
  /** `positions[i]` is the input index of `ids[i]`. */
  positions: number[];
}
