import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import {
  type GraphQLCompositeType,
  type GraphQLEnumType,
  type GraphQLField,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isScalarType,
  Lexer,
  Source,
  TokenKind,
} from 'graphql';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TieOrder } from '../../src/emulator/index.ts';
import { defaultQueryLimits } from '../../src/http/use-query-limits.ts';
import { priceOf } from '../../src/schema/cost.ts';
import { encodeGlobalId, encodeNestedId } from '../../src/schema/ids.ts';
import { schema } from '../../src/schema/index.ts';
import { UpstreamBudget } from '../../src/upstream/budget.ts';
import { startGateway, type TestGateway, uploadTextFiles } from '../support/gateway.ts';
import { PREFLIGHT } from '../support/multipart.ts';
import { type GraphQLBody, percentile, send, watchProcess } from './support.ts';

/**
 * The upstream-call estimate is a promise: `extensions.cost.upstreamCalls` is the most calls an
 * operation makes, and the budget (upstream/budget.ts) refuses any call past it with OVER_BUDGET.
 * 1,000 operations generated from the schema itself (fast-check, fixed seed) run one at a time
 * against real data, and for every operation the gateway accepts (HTTP 200 with
 * `extensions.cost`): the calls the emulator counted, those that outlive the answer included, must
 * not exceed the estimate, and no call may have been refused for the budget (an OVER_BUDGET means
 * a price lied and the budget had to cover for it; a spy on the budget names the refused call).
 * No answer may be a 5xx, an operation refused before execution may make no call, at least half
 * must be accepted, and every Query and Mutation root field must be reached.
 *
 * The generator walks the schema: selections over object, interface and union types, inline and
 * named fragments, aliases, `@include`/`@skip`, and arguments drawn by their name and type (page
 * sizes in and out of range, real and foreign cursors, ids that exist, do not, are malformed or of
 * the wrong kind, search filters, metadata and attributes valid or not, id lists up to the maxima
 * their descriptions document, uploads sent as GraphQL multipart requests). Each operation is a
 * function of its decisions and the data: every decision is one draw of `fc.gen()`, and 0 is always
 * the simplest option, so fast-check shrinks a failure by shrinking its draws and the report shows
 * the smallest operation found.
 *
 * Operations run against two gateways, each over an emulator that lists same-second objects one of
 * the two ways the real API has been recorded doing (see `Target`). Queries read seeded stores
 * that never change; mutations name only scratch stores and files, which are put back after each
 * mutation. Processing takes no time, so `waitSeconds` waits end at their first poll.
 *
 * Subscriptions are left out: their upstream calls are the process-wide pollers', shared by every
 * watcher and paced by a deadline rather than priced per operation, and an SSE stream carries no
 * `extensions.cost` to hold them to (the polls a mutation's `waitSeconds` makes are priced, and in).
 */
const RUNS = 1000;
const SEED = 20261124;
/** The gateway's shape limits (the test gateway keeps the defaults); generated operations stay within them most of the time. */
const LIMITS = defaultQueryLimits;
/** How many files one upload request may carry (the default of `MAX_UPLOAD_FILES`). */
const MAX_UPLOAD_FILES = 20;
/** The largest upload file accepted here, so some generated files are refused as too large. */
const MAX_UPLOAD_FILE_BYTES = 4096;
/** Scratch stores mutations may change, and the loose files they may attach, remove or delete. */
const SCRATCH_STORES = 3;
const POOL_FILES = 160;
/**
 * How long fast-check may shrink a failure: past it the run is interrupted, and the smallest
 * failure found so far is the one reported.
 */
const SHRINK_MS = 20_000;
/** Files of the big store attached in one second. */
const BIG_SAME_SECOND = 430;
/** A scratch store over the 100 files a `deleteFiles` cascade takes along. */
const WIDE_STORE_FILES = 110;

// ---------------------------------------------------------------------------------------------
// The data operations run against.

interface SeededStore {
  name: string;
  id: string;
  fileIds: string[];
  batchIds: string[];
}

interface World {
  /** Read by queries, never changed: mutations only reach them through ids they cannot harm. */
  stores: SeededStore[];
  looseFiles: string[];
  /** Changed by mutations, and put back between operations. */
  scratch: SeededStore[];
  wide: SeededStore;
  pool: string[];
  /** Ids that existed and were deleted: well-formed, and not found. */
  gone: { stores: string[]; files: string[] };
}

async function seedStore(
  gateway: TestGateway,
  name: string,
  batches: Array<{ fileIds: string[]; attributes?: Record<string, string | number | boolean> }>,
): Promise<SeededStore> {
  const store = await gateway.openai.vectorStores.create({ name, metadata: { seeded: 'yes', name } });
  const seeded: SeededStore = { name, id: store.id, fileIds: [], batchIds: [] };
  for (const batch of batches) {
    if (batch.fileIds.length === 0) continue;
    const created = await gateway.openai.vectorStores.fileBatches.create(store.id, {
      file_ids: batch.fileIds,
      attributes: batch.attributes,
    });
    seeded.fileIds.push(...batch.fileIds);
    seeded.batchIds.push(created.id);
  }
  return seeded;
}

async function uploadFile(gateway: TestGateway, name: string, content: string): Promise<string> {
  const file = await gateway.openai.files.create({
    file: await toFile(Buffer.from(content), name, { type: 'text/plain' }),
    purpose: 'assistants',
  });
  return file.id;
}

/**
 * Seeded stores: one of 470 files whose first 430 were uploaded and attached in the same second
 * (the emulator's clock only moves when told), in batches of 330, 100 and 40: the store's list and
 * its first batch's hold runs of same-second items longer than the 200 past which reading the end
 * of a list may take more than 3 calls (src/schema/connections.ts, readTail), whatever the page
 * size. Several small stores with attributes to search by, one with files that fail processing, an
 * empty one and two created in the same second.
 */
async function seedWorld(gateway: TestGateway): Promise<World> {
  const { openai, clock } = gateway;
  const bigFirst = await uploadTextFiles(openai, BIG_SAME_SECOND, 'big');
  const bigFirstBatches = [
    { fileIds: bigFirst.slice(0, 330), attributes: { lang: 'en', tier: 1, draft: false } },
    { fileIds: bigFirst.slice(330), attributes: { lang: 'fr', tier: 2, draft: true } },
  ];
  const big = await seedStore(gateway, 'big', bigFirstBatches);
  clock.advance(1000);
  const bigRest = await uploadTextFiles(openai, 40, 'late');
  const rest = await gateway.openai.vectorStores.fileBatches.create(big.id, {
    file_ids: bigRest,
    attributes: { lang: 'de', tier: 3, author: 'ada' },
  });
  big.fileIds.push(...bigRest);
  big.batchIds.push(rest.id);
  clock.advance(1000);

  const alphaFiles = await uploadTextFiles(openai, 12, 'alpha');
  const alpha = await seedStore(
    gateway,
    'alpha',
    [0, 1, 2].map((index) => ({
      fileIds: alphaFiles.slice(index * 4, index * 4 + 4),
      attributes: { lang: index === 1 ? 'de' : 'en', n: index * 10, author: ['ada', 'bob', 'cy'][index]! },
    })),
  );
  clock.advance(1000);
  const betaFiles = [
    ...(await uploadTextFiles(openai, 3, 'beta')),
    await uploadFile(gateway, 'blob.bin', 'not text file_search can index'),
    await uploadFile(gateway, 'empty.txt', ''),
  ];
  const beta = await seedStore(gateway, 'beta', [{ fileIds: betaFiles, attributes: { lang: 'en', n: 5 } }]);
  clock.advance(1000);
  const empty = await seedStore(gateway, 'empty', []);
  const twinFiles = await uploadTextFiles(openai, 4, 'twin');
  const twinA = await seedStore(gateway, 'twin-a', [{ fileIds: twinFiles.slice(0, 2) }]);
  const twinB = await seedStore(gateway, 'twin-b', [{ fileIds: twinFiles.slice(2) }]);
  clock.advance(1000);
  const looseFiles = await uploadTextFiles(openai, 8, 'loose');
  const world: World = {
    stores: [big, alpha, beta, empty, twinA, twinB],
    looseFiles,
    scratch: [],
    wide: { name: 'wide', id: '', fileIds: [], batchIds: [] },
    pool: [],
    gone: { stores: ['vs_0123456789abcdef0123456789abcdef'], files: ['file-0000000000000000000000'] },
  };
  await restoreScratch(gateway, world);
  return world;
}

/**
 * Puts the scratch data back after mutations changed it: loose files to attach (uploaded again
 * when deleted), the small scratch stores and the wide one. Its calls are made between operations,
 * so they count for none.
 */
async function restoreScratch(gateway: TestGateway, world: World): Promise<void> {
  const { openai } = gateway;
  const existing = new Set((await openai.files.list({ limit: 10_000 })).data.map((file) => file.id));
  const lost = world.pool.filter((id) => !existing.has(id));
  world.gone.files.push(...lost);
  world.pool = world.pool.filter((id) => existing.has(id));
  if (world.pool.length < POOL_FILES) {
    world.pool.push(...(await uploadTextFiles(openai, POOL_FILES + 20 - world.pool.length, 'pool')));
  }
  const holds = async (store: SeededStore, atLeast: number): Promise<boolean> => {
    if (!store.id) return false;
    try {
      const found = await openai.vectorStores.retrieve(store.id);
      return found.file_counts.total >= atLeast;
    } catch {
      world.gone.stores.push(store.id);
      return false;
    }
  };
  for (let index = 0; index < SCRATCH_STORES; index++) {
    const current = world.scratch[index];
    if (current && (await holds(current, 3))) continue;
    const fileIds = await uploadTextFiles(openai, 6, `scratch${index}`);
    world.scratch[index] = await seedStore(gateway, `scratch-${index}`, [
      { fileIds: fileIds.slice(0, 3), attributes: { lang: 'en' } },
      { fileIds: fileIds.slice(3) },
    ]);
  }
  if (!(await holds(world.wide, WIDE_STORE_FILES - 5))) {
    world.wide = await seedStore(gateway, 'wide', [{ fileIds: world.pool.slice(0, WIDE_STORE_FILES) }]);
  }
  // The stores' file lists as they are now, so ids drawn from them are current.
  for (const store of [...world.scratch, world.wide]) {
    const files = await openai.vectorStores.files.list(store.id, { limit: 100 });
    store.fileIds = files.data.map((file) => file.id);
  }
}

// ---------------------------------------------------------------------------------------------
// Choices: what a generated operation is made of.

/** One decision among `max + 1` options; unbiased, so the weights below are what they say. */
const decision = (max: number) => fc.noBias(fc.nat({ max }));

class Choices {
  constructor(private readonly draw: fc.GeneratorValue) {}

  /** An integer in [0, n). Each is one draw of `fc.gen()`, which shrinks toward 0, the simplest option. */
  int(n: number): number {
    return n <= 1 ? 0 : this.draw(decision, n - 1);
  }

  /** True `percent` times in 100; false for 0, so shrinking drops the optional. */
  chance(percent: number): boolean {
    return this.int(100) >= 100 - percent;
  }

  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** The first option is the simplest: what a 0 picks. */
  weighted<T>(options: ReadonlyArray<readonly [number, T]>): T {
    let roll = this.int(options.reduce((sum, [weight]) => sum + weight, 0));
    for (const [weight, value] of options) {
      if (roll < weight) return value;
      roll -= weight;
    }
    return options.at(-1)![1];
  }
}

// ---------------------------------------------------------------------------------------------
// Values: inline literals or variables.

class EnumValue {
  constructor(readonly name: string) {}
}
const UPLOAD = Symbol('upload');
const OMIT = Symbol('omit');
const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

function printLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof EnumValue) return value.name;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(printLiteral).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([key, item]) => `${key}: ${printLiteral(item)}`).join(', ')}}`;
}

/** Whether a value can only be sent as a variable: uploads, keys that are not names, long lists. */
function needsVariable(value: unknown): boolean {
  if (value === UPLOAD) return true;
  if (Array.isArray(value)) return value.length > 12 || value.some(needsVariable);
  if (value !== null && typeof value === 'object' && !(value instanceof EnumValue)) {
    return Object.entries(value).some(([key, item]) => !NAME.test(key) || needsVariable(item));
  }
  return typeof value === 'string' && value.length > 200;
}

function toVariable(value: unknown): unknown {
  if (value === UPLOAD) return null;
  if (value instanceof EnumValue) return value.name;
  if (Array.isArray(value)) return value.map(toVariable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toVariable(item)]));
  }
  return value;
}

/** Where each upload of the variables sits: `variables.input.files.0` and so on. */
function uploadPaths(value: unknown, path: string): string[] {
  if (value === UPLOAD) return [path];
  if (Array.isArray(value)) return value.flatMap((item, index) => uploadPaths(item, `${path}.${index}`));
  if (value !== null && typeof value === 'object' && !(value instanceof EnumValue)) {
    return Object.entries(value).flatMap(([key, item]) => uploadPaths(item, `${path}.${key}`));
  }
  return [];
}

// ---------------------------------------------------------------------------------------------
// The generator: operations from the schema, within its shape limits most of the time.

interface GeneratedOperation {
  kind: 'query' | 'mutation';
  query: string;
  variables: Record<string, unknown>;
  uploads: Array<{ path: string; name: string; content: string }>;
  roots: string[];
  /** Meant to break a shape limit (deeper, more aliases or more tokens than allowed). */
  oversized: boolean;
}

interface ShapeLimits {
  depth: number;
  aliases: number;
  fields: number;
  /**
   * How many entries a selection set holds at most. Narrow operations are the telling ones: in a
   * wide one, fields that make fewer calls than their price leave room for one that makes more.
   */
  breadth: number;
}

/** Response keys already used at one level, with what they select, so merged fields stay valid. */
type KeyScope = Map<string, { signature: string; children: KeyScope }>;

const SEARCH_QUERIES = [
  'vector',
  'chunking search',
  'notes about vector stores',
  'number 7',
  'big number 42',
  'zzz nothing matches',
  '',
  'late',
];
const ATTRIBUTE_KEYS = ['lang', 'tier', 'n', 'draft', 'author', 'missing'];
const MALFORMED_IDS = [
  '',
  'not an id',
  '!!!',
  'vs_',
  'file-',
  encodeGlobalId('Bogus', 'thing'),
  'x'.repeat(420),
  '42',
];

class Generator {
  private readonly variables = new Map<string, { type: string; value: unknown }>();
  private readonly fragments: string[] = [];
  private readonly uploads: GeneratedOperation['uploads'] = [];
  private aliasCount = 0;
  private fieldCount = 0;
  private nameCount = 0;

  constructor(
    private readonly c: Choices,
    private readonly world: World,
    private readonly limits: ShapeLimits,
  ) {}

  operation(): GeneratedOperation {
    const kind = this.c.chance(35) ? 'mutation' : 'query';
    const root = kind === 'query' ? schema.getQueryType()! : schema.getMutationType()!;
    const fields = Object.values(root.getFields());
    const count = this.c.weighted([
      [70, 1],
      [20, 2],
      [10, 3],
    ] as const);
    const scope: KeyScope = new Map();
    const selections: string[] = [];
    const roots: string[] = [];
    for (let index = 0; index < count; index++) {
      const field = this.c.pick(fields);
      const selection = this.field(root, field, 1, scope);
      if (selection) {
        selections.push(selection);
        roots.push(field.name);
      }
    }
    if (selections.length === 0) selections.push('__typename');
    const definitions = [...this.variables].map(([name, { type }]) => `$${name}: ${type}`);
    const header = `${kind} Generated${definitions.length > 0 ? `(${definitions.join(', ')})` : ''}`;
    const query = [`${header} { ${selections.join(' ')} }`, ...this.fragments].join('\n');
    const variables: Record<string, unknown> = {};
    for (const [name, { value }] of this.variables) variables[name] = toVariable(value);
    return {
      kind,
      query,
      variables,
      uploads: this.uploads,
      roots,
      oversized:
        this.limits.depth > LIMITS.maxDepth ||
        this.aliasCount > LIMITS.maxAliases ||
        countTokens(query) > LIMITS.maxTokens,
    };
  }

  private selectionSet(type: GraphQLCompositeType, depth: number, scope: KeyScope): string {
    const entries: string[] = [];
    const count = Math.min(
      this.limits.breadth,
      this.c.weighted([
        [30, 1],
        [35, 2],
        [25, 3],
        [10, 5],
      ] as const),
    );
    for (let index = 0; index < count && this.fieldCount < this.limits.fields; index++) {
      const entry = isAbstractType(type)
        ? this.abstractEntry(type, depth, scope)
        : this.objectEntry(type as GraphQLObjectType, depth, scope);
      if (entry) entries.push(entry);
    }
    if (entries.length === 0) entries.push('__typename');
    return `{ ${entries.join(' ')} }`;
  }

  private objectEntry(type: GraphQLObjectType, depth: number, scope: KeyScope): string | null {
    const kind = this.c.weighted([
      [84, 'field'],
      [6, 'typename'],
      [5, 'inline'],
      [5, 'spread'],
    ] as const);
    if (kind === 'typename') return '__typename';
    if (kind === 'inline') {
      // On the type itself, one of its interfaces, or no condition at all.
      const condition = this.c.pick<GraphQLCompositeType | null>([type, ...type.getInterfaces(), null]);
      return `...${condition ? ` on ${condition.name}` : ''}${this.directives()} ${this.selectionSet(condition ?? type, depth, scope)}`;
    }
    if (kind === 'spread') return this.spread([type, ...type.getInterfaces()], depth, scope);
    return this.field(type, this.pickField(type), depth, scope);
  }

  /**
   * Fields by what they matter to the estimate: connections (whose price depends most on their
   * arguments) most, then other fields with a price, then those that lead to more; leaves, which
   * cost nothing, least.
   */
  private pickField(type: GraphQLObjectType | GraphQLInterfaceType): GraphQLField<unknown, unknown> {
    const weight = (field: GraphQLField<unknown, unknown>) =>
      field.args.some((arg) => arg.name === 'last')
        ? 12
        : priceOf(field)
          ? 6
          : isCompositeType(getNamedType(field.type))
            ? 3
            : 1;
    return this.c.weighted(Object.values(type.getFields()).map((field) => [weight(field), field] as const));
  }

  /** A member of an abstract type, those with more to select (payloads rather than errors) more often. */
  private pickMember(type: GraphQLCompositeType): GraphQLObjectType {
    return this.c.weighted(
      schema
        .getPossibleTypes(type as GraphQLInterfaceType)
        .map(
          (member) =>
            [
              1 +
                Object.values(member.getFields()).filter((field) => isCompositeType(getNamedType(field.type)))
                  .length,
              member,
            ] as const,
        ),
    );
  }

  private abstractEntry(
    type: GraphQLInterfaceType | GraphQLCompositeType,
    depth: number,
    scope: KeyScope,
  ): string | null {
    const possible = schema.getPossibleTypes(type as GraphQLInterfaceType);
    const kind = this.c.weighted([
      [55, 'inline'],
      [25, 'field'],
      [10, 'typename'],
      [5, 'spread'],
      [5, 'interface'],
    ] as const);
    if (kind === 'typename') return '__typename';
    if (kind === 'field' && isInterfaceType(type))
      return this.field(type, this.pickField(type), depth, scope);
    if (kind === 'spread') {
      const member = this.pickMember(type);
      return this.spread([type, member, ...member.getInterfaces()], depth, scope);
    }
    if (kind === 'interface') {
      // An interface its members implement, e.g. `... on MutationError` inside a result union.
      const faces = [...new Set(possible.flatMap((member) => member.getInterfaces()))];
      if (faces.length > 0) {
        const face = this.c.pick(faces);
        return `... on ${face.name} ${this.selectionSet(face, depth, scope)}`;
      }
    }
    const member = this.pickMember(type);
    return `... on ${member.name}${this.directives()} ${this.selectionSet(member, depth, scope)}`;
  }

  /** A named fragment on one of `conditions`, defined here and spread where it is used. */
  private spread(conditions: readonly GraphQLCompositeType[], depth: number, scope: KeyScope): string {
    const condition = this.c.pick(conditions);
    const name = `F${++this.nameCount}`;
    const body = this.selectionSet(condition, depth, scope);
    this.fragments.push(`fragment ${name} on ${condition.name} ${body}`);
    // Sometimes twice: execution and the estimate both take a fragment once per selection.
    return this.c.chance(10) ? `...${name} ...${name}` : `...${name}${this.directives()}`;
  }

  private field(
    parent: GraphQLObjectType | GraphQLInterfaceType,
    field: GraphQLField<unknown, unknown>,
    depth: number,
    scope: KeyScope,
  ): string | null {
    const named = getNamedType(field.type);
    const composite = isCompositeType(named);
    if (composite && depth >= this.limits.depth) return null;
    if (this.fieldCount >= this.limits.fields) return null;
    const args = this.arguments(parent, field);
    const signature = `${field.name}${args.text}:${String(field.type)}`;
    let alias: string | undefined;
    if (this.c.chance(12) && this.aliasCount < this.limits.aliases) alias = `a${++this.aliasCount}`;
    if (!alias && scope.has(field.name) && scope.get(field.name)!.signature !== signature) {
      if (this.aliasCount >= this.limits.aliases) return null;
      alias = `a${++this.aliasCount}`;
    }
    const key = alias ?? field.name;
    for (const [name, variable] of args.variables) this.variables.set(name, variable);
    this.uploads.push(...args.uploads);
    let entry = scope.get(key);
    if (!entry) {
      entry = { signature, children: new Map() };
      scope.set(key, entry);
    }
    this.fieldCount++;
    const sub = composite
      ? ` ${this.selectionSet(named as GraphQLCompositeType, depth + 1, entry.children)}`
      : '';
    return `${alias ? `${alias}: ` : ''}${field.name}${args.text}${this.directives()}${sub}`;
  }

  /** `@include`/`@skip` now and then, with a literal or a variable. */
  private directives(): string {
    if (!this.c.chance(5)) return '';
    const directive = this.c.pick(['include', 'skip']);
    const condition = this.c.chance(50);
    if (this.c.chance(50)) return ` @${directive}(if: ${condition})`;
    const name = `d${++this.nameCount}`;
    this.variables.set(name, { type: 'Boolean!', value: condition });
    return ` @${directive}(if: $${name})`;
  }

  private arguments(
    parent: GraphQLObjectType | GraphQLInterfaceType,
    field: GraphQLField<unknown, unknown>,
  ): {
    text: string;
    variables: Array<[string, { type: string; value: unknown }]>;
    uploads: GeneratedOperation['uploads'];
  } {
    const parts: string[] = [];
    const variables: Array<[string, { type: string; value: unknown }]> = [];
    const uploads: GeneratedOperation['uploads'] = [];
    const where = { parent: parent.name, field: field.name, store: undefined as SeededStore | undefined };
    // A connection's paging arguments come as a set: a page from either end, with or without a
    // cursor, and now and then a combination the resolver refuses. The end of a list without a
    // cursor comes up most: it is the page whose reads depend on the data (connections.ts, readTail).
    const paged = PAGING.every((name) => field.args.some((arg) => arg.name === name));
    const paging = paged
      ? this.c.weighted<readonly string[]>([
          [15, []],
          [20, ['first']],
          [40, ['last']],
          [8, ['first', 'after']],
          [12, ['last', 'before']],
          [5, PAGING.filter(() => this.c.chance(60))],
        ])
      : [];
    for (const arg of field.args) {
      const required = isNonNullType(arg.type) && arg.defaultValue === undefined;
      if (paged && PAGING.includes(arg.name)) {
        if (!paging.includes(arg.name)) continue;
      } else if (!required && !this.c.chance(35)) continue;
      const value = this.value(arg.name, arg.type, where);
      if (value === OMIT) continue;
      if (needsVariable(value) || this.c.chance(25)) {
        const name = `v${++this.nameCount}`;
        variables.push([name, { type: String(arg.type), value }]);
        for (const path of uploadPaths(value, `variables.${name}`))
          uploads.push({ path, ...this.uploadFile() });
        parts.push(`${arg.name}: $${name}`);
      } else {
        parts.push(`${arg.name}: ${printLiteral(value)}`);
      }
    }
    return { text: parts.length > 0 ? `(${parts.join(', ')})` : '', variables, uploads };
  }

  private uploadFile(): { name: string; content: string } {
    const index = ++this.nameCount;
    return this.c.weighted([
      [70, { name: `upload-${index}.txt`, content: `uploaded ${index}: vector stores and search.` }],
      [10, { name: `upload-${index}.md`, content: '# notes\n\nchunking and search' }],
      [8, { name: `upload-${index}.bin`, content: 'binary-ish' }],
      [7, { name: `empty-${index}.txt`, content: '' }],
      [5, { name: `large-${index}.txt`, content: 'x'.repeat(MAX_UPLOAD_FILE_BYTES + 1) }],
    ] as const);
  }

  // -------------------------------------------------------------------------------------------
  // Argument and input values, by name and type.

  private value(
    name: string,
    type: GraphQLInputType,
    where: { parent: string; field: string; store: SeededStore | undefined; depth?: number },
  ): unknown {
    const nullable = !isNonNullType(type);
    const inner = getNullableType(type);
    const mutation = where.parent === 'Mutation' || where.parent.endsWith('Input');
    if (nullable && mutation && this.c.chance(3)) return null;
    switch (name) {
      case 'first':
      case 'last':
        return this.pageSize();
      case 'after':
      case 'before':
        return this.cursor(where.field);
      case 'maxResults':
        return this.c.weighted([
          [55, this.c.between(1, 10)],
          [30, this.c.between(11, 50)],
          [15, this.c.pick([0, 51, -1, 100])],
        ]);
      case 'query':
        return this.c.pick(SEARCH_QUERIES);
      case 'filters':
        return this.c.chance(85) ? this.filter(1) : this.badFilter();
      case 'purpose':
        // A list filter takes OpenAI's own words; createFiles takes its enum.
        return isEnumType(inner)
          ? this.c.chance(90)
            ? new EnumValue(this.c.pick((inner as GraphQLEnumType).getValues()).name)
            : 'nope'
          : this.c.pick(['assistants', 'user_data', 'batch', 'nope']);
      case 'sizes':
        // Declared file sizes: small ones (mostly wrong for the file sent), one past the 512 MB of
        // POST /files (createFiles sends it in parts, uploadFiles refuses it), and bad lists.
        return Array.from({ length: this.c.between(0, 4) }, () =>
          this.c.pick([1, 5, MAX_UPLOAD_FILE_BYTES, 600 * 1024 ** 2, -1]),
        );
      case 'waitSeconds':
        return this.c.weighted<unknown>([
          [55, OMIT],
          [35, this.c.between(1, 2)],
          [10, this.c.pick([0, 31, -3])],
        ]);
      case 'deleteFiles':
        return this.c.weighted<unknown>([
          [40, OMIT],
          [35, true],
          [25, false],
        ]);
      case 'attributes':
      case 'metadata':
        return this.c.chance(80) ? this.pairs(name === 'metadata') : this.badPairs();
      case 'name':
      case 'description':
        return this.c.pick(['generated', '', 'a name with spaces', 'x'.repeat(300)]);
      case 'id':
      case 'ids':
      case 'vectorStoreId':
      case 'fileId':
      case 'fileIds':
      case 'batchId':
        return this.ids(name, type, where);
    }
    if (isListType(inner)) {
      const item = (inner as { ofType: GraphQLInputType }).ofType;
      if (getNamedType(item).name === 'Upload') {
        const count = this.c.weighted([
          [55, 1],
          [30, this.c.between(2, 4)],
          [7, this.c.between(5, MAX_UPLOAD_FILES)],
          [4, 0],
          [4, MAX_UPLOAD_FILES + 1],
        ]);
        return Array.from({ length: count }, () => UPLOAD);
      }
      // Input types may nest themselves (a filter's `and`): past a few levels, lists stay short.
      const most = isInputObjectType(getNamedType(item)) && (where.depth ?? 0) >= 3 ? 1 : 3;
      return Array.from({ length: this.c.between(0, most) }, () => this.value(name, item, where));
    }
    if (isInputObjectType(inner)) return this.input(inner, where);
    if (isEnumType(inner)) return new EnumValue(this.c.pick((inner as GraphQLEnumType).getValues()).name);
    if (isScalarType(inner)) {
      switch (inner.name) {
        case 'Int':
          // `days` of an expiry, `deadlineSeconds`, anything else numeric.
          return this.c.weighted([
            [80, this.c.between(1, 365)],
            [20, this.c.pick([0, -1, 366, 2000])],
          ]);
        case 'Boolean':
          return this.c.chance(50);
        case 'String':
          return this.c.weighted([
            [70, 'last_active_at'],
            [30, this.c.pick(['created_at', ''])],
          ]);
        case 'JSONObject':
          return this.pairs(false);
        case 'ID':
          return this.ids(name, type, where);
      }
    }
    return null;
  }

  /** An input object: the fields naming a store first, since ids of its files are drawn from it. */
  private input(
    type: GraphQLInputObjectType,
    outer: { parent: string; field: string; depth?: number },
  ): unknown {
    const where = {
      parent: type.name,
      field: outer.field,
      store: undefined as SeededStore | undefined,
      depth: (outer.depth ?? 0) + 1,
    };
    const fields = Object.values(type.getFields()).sort(
      (a, b) =>
        Number(b.name === 'vectorStoreId' || b.name === 'id') -
        Number(a.name === 'vectorStoreId' || a.name === 'id'),
    );
    const value: Record<string, unknown> = {};
    if (type.isOneOf) {
      // One field, as @oneOf asks; now and then two, which the gateway must refuse before any call.
      const chosen = Array.from({ length: this.c.chance(90) ? 1 : 2 }, () => this.c.pick(fields));
      for (const field of chosen) value[field.name] = this.value(field.name, field.type, where);
      return value;
    }
    for (const field of fields) {
      const required = isNonNullType(field.type) && field.defaultValue === undefined;
      if (!required && !this.c.chance(60)) continue;
      const item = this.value(field.name, field.type, where);
      if (item !== OMIT) value[field.name] = item;
    }
    return value;
  }

  private pageSize(): number {
    return this.c.weighted([
      [40, this.c.between(1, 5)],
      [25, this.c.between(6, 30)],
      [20, this.c.between(31, 99)],
      [7, 100],
      [8, this.c.pick([0, -1, 101, 500])],
    ]);
  }

  /** A cursor of the list being paged, of another list, or none that exists. */
  private cursor(field: string): string {
    const stores = [...this.world.stores, ...this.world.scratch];
    const files = this.world.stores.flatMap((store) => store.fileIds);
    const own = field === 'vectorStores' ? stores.map((store) => store.id) : files;
    return this.c.weighted([
      [75, () => this.c.pick(own)],
      [10, () => this.c.pick(field === 'vectorStores' ? files : stores.map((store) => store.id))],
      [10, () => this.c.pick([...this.world.gone.stores, ...this.world.gone.files])],
      [5, () => this.c.pick(['', 'garbage', 'file-', 'vs_x'])],
    ] as const)();
  }

  // Ids: what they name follows from the argument's field and name.

  private ids(
    name: string,
    type: GraphQLInputType,
    where: { parent: string; field: string; store: SeededStore | undefined },
  ): unknown {
    const mutation = where.parent.endsWith('Input');
    if (isListType(getNullableType(type))) {
      const max = mutation ? documentedMaximum(where.parent, name) : 100;
      const length = this.c.weighted([
        [40, this.c.between(1, 3)],
        [25, this.c.between(4, 20)],
        [12, this.c.between(21, Math.min(100, max))],
        [8, max],
        [5, this.c.between(Math.min(100, max), max)],
        [5, 0],
        [5, max + 1],
      ]);
      // Long lists are mostly clean, so they get past validation and make their calls.
      const dirty = this.c.chance(15);
      const ids = Array.from({ length }, () => this.oneId(name, where, dirty || length <= 5));
      if (dirty && length > 5) ids[this.c.int(length)] = this.c.pick(MALFORMED_IDS);
      return ids;
    }
    return this.oneId(name, where, true);
  }

  private oneId(
    name: string,
    where: { parent: string; field: string; store: SeededStore | undefined },
    mayBeWrong: boolean,
  ): string {
    const { world } = this;
    const c = this.c;
    const storeForm = (store: SeededStore) =>
      c.chance(50) ? store.id : encodeGlobalId('VectorStore', store.id);
    const fileForm = (store: SeededStore | undefined, fileId: string) =>
      c.weighted([
        [45, fileId],
        [35, encodeGlobalId('File', fileId)],
        [20, store ? encodeGlobalId('VectorStoreFile', encodeNestedId(store.id, fileId)) : fileId],
      ] as const);
    const batchForm = (store: SeededStore, batchId: string) =>
      c.chance(65) ? encodeGlobalId('FileBatch', encodeNestedId(store.id, batchId)) : batchId;
    const missing = () =>
      c.pick([
        ...world.gone.stores,
        ...world.gone.files,
        encodeGlobalId('VectorStoreFile', encodeNestedId(world.stores[0]!.id, 'file-Missing0000000000000')),
        encodeGlobalId('FileBatch', encodeNestedId(world.stores[0]!.id, 'vsfb_0000')),
      ]);
    const wrong = (expected: string) =>
      c.weighted([
        [40, () => c.pick(MALFORMED_IDS)],
        [30, () => missing()],
        [
          30,
          () =>
            expected === 'store' ? encodeGlobalId('File', world.looseFiles[0]!) : storeForm(world.stores[1]!),
        ],
      ] as const)();
    if (mayBeWrong && c.chance(18))
      return wrong(name === 'vectorStoreId' || where.field === 'vectorStore' ? 'store' : 'file');

    // The big store most often: its long same-second run is where paging backwards works hardest.
    const readStore = () => (c.chance(60) ? world.stores[0]! : c.pick(world.stores));
    const scratchStore = () =>
      c.weighted([
        [85, () => c.pick(world.scratch)],
        [15, () => world.wide],
      ] as const)();
    const mutation = where.parent.endsWith('Input');
    // Mutations name scratch stores and pool files only, so no write reaches what queries read.
    if (mutation) {
      switch (name) {
        case 'vectorStoreId':
        case 'id': {
          const store = scratchStore();
          where.store = store;
          return storeForm(store);
        }
        case 'fileIds':
          if (where.parent === 'RemoveFilesInput' && where.store && c.chance(70)) {
            return fileForm(where.store, c.pick(where.store.fileIds));
          }
          return fileForm(where.store, c.pick(world.pool));
        case 'fileId': {
          const store = where.store ?? scratchStore();
          return fileForm(store, c.chance(85) ? c.pick(store.fileIds) : c.pick(world.pool));
        }
        case 'batchId': {
          const store = where.store ?? scratchStore();
          return store.batchIds.length > 0 && c.chance(85)
            ? batchForm(store, c.pick(store.batchIds))
            : batchForm(world.stores[0]!, c.pick(world.stores[0]!.batchIds));
        }
      }
    }
    const store = readStore();
    const withFiles = () => c.pick(world.stores.filter((candidate) => candidate.fileIds.length > 0));
    switch (where.field) {
      case 'vectorStore':
        return storeForm(c.chance(85) ? store : c.pick(world.scratch));
      case 'file': {
        if (where.parent === 'VectorStore') {
          // The parent store is not known here: the big store's files, since most lists start there.
          const owner = c.chance(70) ? world.stores[0]! : withFiles();
          return fileForm(owner, c.pick(owner.fileIds));
        }
        const owner = withFiles();
        return fileForm(owner, c.chance(85) ? c.pick(owner.fileIds) : c.pick(world.looseFiles));
      }
      case 'fileBatch': {
        const owner = c.chance(70) ? world.stores[0]! : withFiles();
        return batchForm(owner, c.pick(owner.batchIds));
      }
      default: {
        // `node`, `nodes`: any kind of object.
        const owner = withFiles();
        return c.weighted([
          [30, () => storeForm(c.chance(80) ? store : c.pick(world.scratch))],
          [25, () => encodeGlobalId('File', c.pick(owner.fileIds))],
          [10, () => c.pick(owner.fileIds)],
          [25, () => encodeGlobalId('VectorStoreFile', encodeNestedId(owner.id, c.pick(owner.fileIds)))],
          [10, () => encodeGlobalId('FileBatch', encodeNestedId(owner.id, c.pick(owner.batchIds)))],
        ] as const)();
      }
    }
  }

  // Search filters, metadata and attributes.

  private comparison(): Record<string, unknown> {
    const key = this.c.pick(ATTRIBUTE_KEYS);
    const type = this.c.pick(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin']);
    const scalar = () =>
      key === 'tier' || key === 'n'
        ? this.c.between(0, 30)
        : key === 'draft'
          ? this.c.chance(50)
          : this.c.pick(['en', 'fr', 'de', 'ada', 'bob']);
    const value =
      type === 'in' || type === 'nin' ? Array.from({ length: this.c.between(1, 3) }, scalar) : scalar();
    return { type, key, value };
  }

  private filter(depth: number): Record<string, unknown> {
    if (depth >= 4 || !this.c.chance(35)) return this.comparison();
    const count = this.c.between(1, 3);
    return {
      type: this.c.pick(['and', 'or']),
      filters: Array.from({ length: count }, () => this.filter(depth + 1)),
    };
  }

  /** Filters the gateway refuses before any call: unknown types, too deep, too many comparisons. */
  private badFilter(): unknown {
    return this.c.weighted([
      [25, { type: 'xor', key: 'lang', value: 'en' }],
      [20, { type: 'and', filters: [] }],
      [20, { type: 'eq', key: 'lang', value: { nested: true } }],
      [20, nestFilter(10)],
      [15, { type: 'or', filters: Array.from({ length: 70 }, () => ({ type: 'eq', key: 'n', value: 1 })) }],
    ] as const);
  }

  private pairs(stringsOnly: boolean): Record<string, unknown> {
    const count = this.c.weighted([
      [25, 0],
      [60, this.c.between(1, 4)],
      [15, 16],
    ]);
    const pairs: Record<string, unknown> = {};
    for (let index = 0; index < count; index++) {
      const key = index < ATTRIBUTE_KEYS.length ? ATTRIBUTE_KEYS[index]! : `k${index}`;
      pairs[key] = stringsOnly
        ? this.c.pick(['en', 'fr', 'generated', ''])
        : this.c.pick(['en', 'fr', 7, 2.5, true, false, 'ada']);
    }
    return pairs;
  }

  /** Pairs OpenAI would refuse: checked before any call. */
  private badPairs(): Record<string, unknown> {
    return this.c.weighted<Record<string, unknown>>([
      [30, Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`k${index}`, 'v']))],
      [25, { ['k'.repeat(65)]: 'v' }],
      [25, { lang: 'x'.repeat(513) }],
      [20, { lang: { nested: 'object' } }],
    ]);
  }
}

const PAGING = ['first', 'last', 'after', 'before'];

/** The most ids an input list takes, as its description documents it (`up to 500`, `1 to 10000`). */
function documentedMaximum(inputType: string, field: string): number {
  const type = schema.getType(inputType) as GraphQLInputObjectType;
  const description = type.getFields()[field]?.description ?? '';
  const match = /(?:up to|1 to) (\d+)/.exec(description);
  return match ? Number(match[1]) : 100;
}

function nestFilter(depth: number): Record<string, unknown> {
  return depth === 0
    ? { type: 'eq', key: 'lang', value: 'en' }
    : { type: 'and', filters: [nestFilter(depth - 1)] };
}

function countTokens(text: string): number {
  const lexer = new Lexer(new Source(text));
  let count = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF) count++;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
  return count;
}

/**
 * Where an operation runs: a gateway over an emulator that lists same-second objects one way or
 * the other. The real API reverses them with `order` in most recordings, but not in all
 * (src/emulator/pagination.ts); the gateway's answers are proven under both, so must its estimate be.
 */
interface Target {
  tieOrder: TieOrder;
  gateway: TestGateway;
  world: World;
}

/**
 * One operation from its choices: its target, and within the gateway's shape limits unless its
 * first choices ask for one over them (1 in 12). Too many tokens is tried again with fewer fields.
 */
function generate(c: Choices, targets: readonly Target[]): { target: Target; operation: GeneratedOperation } {
  const target = c.pick(targets);
  const over = c.weighted([
    [92, 'none'],
    [4, 'depth'],
    [4, 'aliases'],
  ] as const);
  const limits: ShapeLimits = {
    depth: over === 'depth' ? LIMITS.maxDepth + 2 : LIMITS.maxDepth,
    aliases: over === 'aliases' ? LIMITS.maxAliases + 5 : LIMITS.maxAliases,
    fields: 60,
    breadth: c.weighted([
      [50, 1],
      [15, 2],
      [35, 5],
    ] as const),
  };
  for (;;) {
    const operation = new Generator(c, target.world, limits).operation();
    if (countTokens(operation.query) <= LIMITS.maxTokens || limits.fields <= 8) return { target, operation };
    limits.fields = Math.floor(limits.fields / 2);
  }
}

// ---------------------------------------------------------------------------------------------
// Sending an operation, and judging the answer.

interface Outcome {
  status: number;
  body: GraphQLBody | undefined;
  text: string;
}

async function sendOperation(gateway: TestGateway, operation: GeneratedOperation): Promise<Outcome> {
  let response: Awaited<ReturnType<typeof send>>;
  if (operation.uploads.length === 0) {
    response = await send(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: operation.query, variables: operation.variables }),
    });
  } else {
    // The GraphQL multipart request spec, as Apollo's upload link sends it.
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: operation.query, variables: operation.variables }));
    form.append(
      'map',
      JSON.stringify(
        Object.fromEntries(operation.uploads.map((upload, index) => [String(index), [upload.path]])),
      ),
    );
    operation.uploads.forEach((upload, index) => {
      form.append(String(index), new Blob([upload.content], { type: 'text/plain' }), upload.name);
    });
    response = await send(gateway.url, { method: 'POST', headers: PREFLIGHT, body: form });
  }
  return { status: response.status, body: response.json as GraphQLBody | undefined, text: response.text };
}

/** Variables as a report shows them: long id lists cut short. */
function shownVariables(variables: Record<string, unknown>): string {
  return JSON.stringify(variables, (_key, value: unknown) =>
    Array.isArray(value) && value.length > 6
      ? [...value.slice(0, 4), `... ${value.length} items in all`]
      : typeof value === 'string' && value.length > 80
        ? `${value.slice(0, 40)}... (${value.length} characters)`
        : value,
  );
}

interface RunRecord {
  tieOrder: TieOrder;
  operation: GeneratedOperation;
  status: number;
  estimate: number | null;
  calls: number;
  refusedKind: string | null;
}

describe(`the upstream-call estimate over ${RUNS} generated operations`, () => {
  const targets: Target[] = [];
  const refusedCalls: string[] = [];

  beforeAll(async () => {
    for (const tieOrder of ['reverse', 'stable'] as const) {
      const gateway = await startGateway({
        emulator: { processingDelayMs: 0, tieOrder },
        app: { uploads: { maxFileBytes: MAX_UPLOAD_FILE_BYTES, maxFiles: MAX_UPLOAD_FILES } },
      });
      targets.push({ tieOrder, gateway, world: await seedWorld(gateway) });
    }
    // Every call the budget refuses, by its upstream operation: the estimate promised too little.
    const take = UpstreamBudget.prototype.take;
    vi.spyOn(UpstreamBudget.prototype, 'take').mockImplementation(function (this: UpstreamBudget, operation) {
      try {
        take.call(this, operation);
      } catch (error) {
        refusedCalls.push(operation);
        throw error;
      }
    });
  }, 120_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    for (const { gateway } of targets) await gateway.close();
  });

  it('never makes more upstream calls than it estimated, nor has a call refused for its budget', async () => {
    const watch = watchProcess();
    const records: RunRecord[] = [];
    const started = performance.now();
    let runs = 0;
    let failedAt: number | undefined;
    const failures = new Set<string>();
    const check = async (draw: fc.GeneratorValue): Promise<void> => {
      if (failedAt !== undefined && performance.now() - failedAt > SHRINK_MS)
        throw new fc.PreconditionFailure(true);
      let generated: ReturnType<typeof generate>;
      try {
        generated = generate(new Choices(draw), targets);
      } catch (error) {
        // A generator that cannot make an operation is a failure of this test, and is shrunk
        // for no longer than any other.
        failedAt ??= performance.now();
        throw error;
      }
      const { target, operation } = generated;
      const { gateway, world } = target;
      // A shrink that only changed choices the operation never read gives an operation already
      // known to fail: skipped rather than sent again, so shrinking spends its time on real steps.
      const key = JSON.stringify([target.tieOrder, operation.query, operation.variables, operation.uploads]);
      if (failures.has(key)) throw new fc.PreconditionFailure();
      runs++;
      // Any failure, the checks' own or one of the harness (restoring the scratch data), starts
      // the shrinking clock: without it a harness failure would shrink for ever.
      try {
        refusedCalls.length = 0;
        gateway.resetUpstreamCalls();
        // A request that gets no answer at all (the connection reset, the process died) is a failure of
        // this operation too, reported with it.
        const outcome = await sendOperation(gateway, operation).catch(
          (error: unknown): Outcome => ({
            status: 0,
            body: undefined,
            text: `no answer: ${error instanceof Error ? `${error.message} (${String(error.cause ?? '')})` : String(error)}`,
          }),
        );
        // Calls that outlive the answer (uploads cleaned up, polls) still belong to this operation.
        await gateway.app.idle(5_000);
        for (let waited = 0; gateway.app.live.size > 0 && waited < 100; waited++) await sleep(20);
        const calls = gateway.upstreamCalls();
        const byRoute = gateway.emulator.stats().byRoute;
        const cost = outcome.body?.extensions?.cost as { upstreamCalls?: number } | undefined;
        const estimate = typeof cost?.upstreamCalls === 'number' ? cost.upstreamCalls : null;
        const codes = (outcome.body?.errors ?? []).map((error) =>
          String(error.extensions?.code ?? 'NO_CODE'),
        );
        records.push({
          tieOrder: target.tieOrder,
          operation,
          status: outcome.status,
          estimate,
          calls,
          refusedKind: estimate === null ? (codes[0] ?? `HTTP_${outcome.status}`) : null,
        });
        const problems: string[] = [];
        if (outcome.status >= 500 || outcome.status === 0)
          problems.push(outcome.status ? `HTTP ${outcome.status}` : outcome.text);
        if (estimate !== null && calls > estimate)
          problems.push(`${calls} upstream calls, estimated ${estimate}`);
        if (refusedCalls.length > 0)
          problems.push(`the budget refused ${refusedCalls.join(', ')} (OVER_BUDGET)`);
        else if (outcome.text.includes('OVER_BUDGET')) problems.push('OVER_BUDGET in the answer');
        if (estimate === null && calls > 0)
          problems.push(`${calls} upstream calls for an operation refused (${codes[0]})`);
        // Mutations change the scratch data: put it back for the next operation.
        if (operation.kind === 'mutation') await restoreScratch(gateway, world);
        if (problems.length > 0) {
          throw new Error(
            [
              problems.join('; '),
              `emulator tie order: ${target.tieOrder}; store "big" is ${world.stores[0]!.id}, its first ${BIG_SAME_SECOND} files attached in one second`,
              `operation: ${operation.query}`,
              `variables: ${shownVariables(operation.variables)}`,
              operation.uploads.length > 0
                ? `uploads: ${operation.uploads.map((upload) => `${upload.path}=${upload.name} (${upload.content.length} bytes)`).join(', ')}`
                : '',
              `upstream calls by route: ${JSON.stringify(byRoute)}`,
              `answer (HTTP ${outcome.status}): ${outcome.text.slice(0, 1500)}`,
            ]
              .filter(Boolean)
              .join('\n'),
          );
        }
      } catch (error) {
        failedAt ??= performance.now();
        failures.add(key);
        throw error;
      }
    };

    let details: fc.RunDetails<[fc.GeneratorValue]>;
    try {
      details = await fc.check(fc.asyncProperty(fc.gen(), check), { numRuns: RUNS, seed: SEED });
    } finally {
      watch.stop();
    }
    const elapsed = (performance.now() - started) / 1000;

    // The run up to its first failure; any records after it are fast-check shrinking that failure.
    const main = records.slice(0, details.numRuns);
    const accepted = main.filter((record) => record.estimate !== null);
    const ratios = accepted
      .filter((record) => (record.estimate ?? 0) > 0)
      .map((record) => record.calls / record.estimate!);
    const refusedByKind = new Map<string, number>();
    for (const record of main) {
      if (record.refusedKind)
        refusedByKind.set(record.refusedKind, (refusedByKind.get(record.refusedKind) ?? 0) + 1);
    }
    const rootFields = [schema.getQueryType()!, schema.getMutationType()!].flatMap((root) =>
      Object.keys(root.getFields()).map((name) => `${root.name}.${name}`),
    );
    const reached = new Set(
      accepted.flatMap((record) =>
        record.operation.roots.map(
          (root) => `${record.operation.kind === 'query' ? 'Query' : 'Mutation'}.${root}`,
        ),
      ),
    );
    const unreached = rootFields.filter((field) => !reached.has(field));
    const count = (test: (record: RunRecord) => boolean) => main.filter(test).length;

    console.log(
      `estimate: ${main.length} operations${details.failed ? ' up to the first failure' : ''} (${count((r) => r.operation.kind === 'mutation')} mutations, ` +
        `${count((r) => r.operation.uploads.length > 0)} multipart uploads, ${count((r) => r.operation.oversized)} meant to break a shape limit; ` +
        `${count((r) => r.tieOrder === 'stable')} against an upstream keeping same-second ties in insertion order) in ${elapsed.toFixed(1)} s; ` +
        `${((accepted.length / Math.max(1, main.length)) * 100).toFixed(1)}% accepted; refused: ${
          [...refusedByKind]
            .sort(([, a], [, b]) => b - a)
            .map(([kind, n]) => `${kind} ${n}`)
            .join(', ') || 'none'
        }; ` +
        `calls/estimate: max ${Math.max(0, ...ratios).toFixed(2)}, median ${percentile(ratios, 50).toFixed(2)}, ` +
        `p90 ${percentile(ratios, 90).toFixed(2)} (${count((r) => r.estimate === 0)} estimated at 0); ` +
        `${accepted.reduce((sum, r) => sum + r.calls, 0)} upstream calls of ${accepted.reduce((sum, r) => sum + (r.estimate ?? 0), 0)} estimated; ` +
        `roots reached ${reached.size}/${rootFields.length}${unreached.length > 0 ? ` (missing ${unreached.join(', ')})` : ''}; ` +
        `${runs - main.length} operations sent while shrinking; ${watch.problems.length} unhandled rejections`,
    );

    if (details.failed) {
      throw new Error(
        `An operation broke its estimate (fast-check seed ${details.seed}, shrunk ${details.numShrinks} times). The smallest found:\n${
          details.errorInstance instanceof Error
            ? details.errorInstance.message
            : String(details.errorInstance)
        }`,
      );
    }
    expect(main.length).toBe(RUNS);
    expect(accepted.length).toBeGreaterThanOrEqual(RUNS / 2);
    expect(unreached).toEqual([]);
    expect(watch.problems).toEqual([]);
  }, 240_000);
});
