/**
 * The upstream-call estimate: OpenAI is paid and rate-limited, so what an operation may cost is
 * how many upstream calls it may make, not how many fields it names. Each field that makes calls
 * declares its price beside its definition (`...costs(price.connection)` in its options, read
 * here from the field's `extensions`); a field without one costs nothing. The estimate is an upper
 * bound for the resolvers and loaders as they are:
 *
 * - `price.connection`: 1 call each time the field is resolved (3 for `last` with no cursor); its
 *   page holds `first ?? last ?? 20` rows, clamped to 1..100 (the resolver rejects other values).
 * - `price.lookup`: 1 each time resolved (a lookup by id, or a per-row detail that cannot batch).
 * - `price.perPage`: 1 per page of parent rows: loaders batch a page's rows into one call. A page
 *   here is a connection page, a search's results or a mutation payload's list.
 * - `price.nodes`: 1 per id, and 1 per store two of them may share; its rows may belong to
 *   different stores, so nothing below them is batched.
 * - `price.search`: 1 per store searched, `maxResults ?? 10` rows (clamped to 1..50).
 * - `price.mutation`: one write; mutations whose calls grow with their input (file lists, uploads,
 *   cascades, waits) declare `inputPrice(...)`, the most their resolver lets itself make for that
 *   input (and the operation's settings, such as the size of an upload's parts), and the rows
 *   their payload lists will hold, which those lists price with `rowsPrice`.
 * - An orphan scan (`orphanedFiles`, `deleteOrphanedFiles`) costs a fixed allowance each time it is
 *   resolved, however far the scan has to go: it stops there and resumes from its cursor.
 * - A list the schema does not page counts `UNPAGED_LIST_ROWS` rows and is one page.
 *   Introspection, scalars and fields without a price cost 0.
 *
 * Fragments are followed and fields merged as execution merges them; `@skip`/`@include` are
 * honoured; for an abstract type the most expensive possible type counts. The estimate is also
 * the operation's budget (upstream/budget.ts): a call past it is not made.
 */
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  GraphQLIncludeDirective,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  GraphQLSkipDirective,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  getVariableValues,
  isAbstractType,
  isLeafType,
  isListType,
  Kind,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { OPENAI_LIMITS } from '../upstream/index.ts';

/** How many times a selection is resolved, and how many pages those objects come in. */
export interface Scope {
  objects: number;
  pages: number;
  depth: number;
  /** Set on a connection object: the rows its `edges`/`nodes` carry. */
  pageRows?: number;
}

export interface Priced {
  calls: number;
  /** The rows a list-typed field returns, for each time it is resolved. */
  rows?: number;
  /** Whether the rows of one resolution batch together (one page), or each stands alone. */
  rowsShareAPage?: boolean;
}

/**
 * A field's price: its upstream calls for these arguments, resolved in this scope. `context` is
 * the operation's context, for prices that depend on settings (unknown when priced without one).
 */
export type Price = (
  args: Record<string, unknown>,
  scope: Scope,
  field: GraphQLField<unknown, unknown>,
  context: unknown,
) => Priced;

const COST_EXTENSION = 'upstreamCost';

/** Field options that declare the field's upstream price: `t.field({ ...costs(price.lookup), ... })`. */
export function costs(fieldPrice: Price): { extensions: { [COST_EXTENSION]: Price } } {
  return { extensions: { [COST_EXTENSION]: fieldPrice } };
}

export function priceOf(field: GraphQLField<unknown, unknown>): Price | undefined {
  const declared = field.extensions?.[COST_EXTENSION];
  return typeof declared === 'function' ? (declared as Price) : undefined;
}

/**
 * Validation rejects fragment cycles, but a server may skip validation (trusted documents); and
 * fragments spread under several fields are walked once per field, which a hostile document can
 * make exponential. Past either bound the walk stops and the operation is priced as unbounded.
 */
const MAX_WALK_DEPTH = 64;
const MAX_FIELD_VISITS = 20_000;
/** One write per mutation field; what else it costs depends on its input and OpenAI's answers. */
export const MUTATION_CALLS = 1;
/** Reads of a `last` page with no cursor, at most (connections.ts, readTail). */
export const TAIL_READS = 3;
/** A list without paging arguments may be as long as the longest page. */
export const UNPAGED_LIST_ROWS = OPENAI_LIMITS.listPage.max;

function clamp(value: unknown, fallback: number, max: number): number {
  const n = typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : fallback;
  return Math.min(max, Math.max(1, n));
}

/** The prices fields declare. */
export const price = {
  connection: ((args, scope) => ({
    // The end of a list with same-second items takes three reads to order exactly (connections.ts).
    calls: scope.objects * (args.last != null && args.before == null ? TAIL_READS : 1),
    rows: clamp(args.first ?? args.last, OPENAI_LIMITS.listPage.default, OPENAI_LIMITS.listPage.max),
  })) satisfies Price,
  lookup: ((_args, scope) => ({ calls: scope.objects })) satisfies Price,
  perPage: ((_args, scope) => ({ calls: scope.pages })) satisfies Price,
  nodes: ((args, scope) => {
    const ids = Array.isArray(args.ids) ? args.ids.length : 1;
    // Files of one store are read together: its store once, then each file or its pages.
    return { calls: scope.objects * (ids + Math.floor(ids / 2)), rows: ids, rowsShareAPage: false };
  }) satisfies Price,
  search: ((args, scope) => ({
    calls: scope.objects,
    rows: clamp(args.maxResults, OPENAI_LIMITS.searchResults.default, OPENAI_LIMITS.searchResults.max),
  })) satisfies Price,
  /** One write. */
  mutation: ((_args, scope) => ({ calls: scope.objects * MUTATION_CALLS })) satisfies Price,
};

/** A mutation's input, as its price sees it: the coerced `input` argument. */
export type PricedInput = Record<string, unknown>;

/**
 * A mutation priced by what its input asks for: its calls, and the rows its payload's lists will
 * hold (they price their own reads from that).
 */
export function inputPrice(
  of: (input: PricedInput, context: unknown) => { calls: number; rows?: number },
): Price {
  return (args, scope, _field, context) => {
    const input = args.input !== null && typeof args.input === 'object' ? (args.input as PricedInput) : {};
    const { calls, rows } = of(input, context);
    return rows === undefined ? { calls: scope.objects * calls } : { calls: scope.objects * calls, rows };
  };
}

/** How many items an input list holds (0 when absent). */
export function lengthOf(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

/** A payload's list: `perRows` says what reading that many rows costs, once per payload. */
export function rowsPrice(perRows: (rows: number) => number): Price {
  return (_args, scope) => ({ calls: scope.objects * perRows(scope.pageRows ?? UNPAGED_LIST_ROWS) });
}

export interface CostInput {
  schema: GraphQLSchema;
  document: DocumentNode;
  variables?: Readonly<Record<string, unknown>> | null | undefined;
  operationName?: string | null | undefined;
  /** The operation's context, passed on to every price. */
  context?: unknown;
}

/**
 * The most upstream calls the operation may make, or null when it cannot be executed as sent
 * (no such operation, variables that do not coerce): execution then fails before any resolver.
 */
export function estimateUpstreamCalls(input: CostInput): number | null {
  const operation = getOperationAST(input.document, input.operationName);
  if (!operation) return null;
  const root = input.schema.getRootType(operation.operation);
  if (!root) return null;
  const definitions = operation.variableDefinitions ?? [];
  const coerced = getVariableValues(input.schema, definitions, input.variables ?? {}, { maxErrors: 1 });
  if (coerced.errors) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of input.document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const walker = new CostWalker(input.schema, fragments, coerced.coerced, input.context);
  return walker.selection(root, [operation.selectionSet], { objects: 1, pages: 1, depth: 0 });
}

class CostWalker {
  private visits = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
    private readonly context: unknown,
  ) {}

  selection(type: GraphQLOutputType, selectionSets: readonly SelectionSetNode[], scope: Scope): number {
    if (scope.depth > MAX_WALK_DEPTH) return Number.POSITIVE_INFINITY;
    const named = getNamedType(type);
    if (isLeafType(named)) return 0;
    if (isAbstractType(named)) {
      // Only one possible type is resolved per object, so the dearest one bounds the cost.
      return Math.max(
        0,
        ...this.schema.getPossibleTypes(named).map((possible) => this.object(possible, selectionSets, scope)),
      );
    }
    return this.object(named, selectionSets, scope);
  }

  private object(type: GraphQLObjectType, selectionSets: readonly SelectionSetNode[], scope: Scope): number {
    let calls = 0;
    for (const fieldNodes of this.collectFields(type, selectionSets).values()) {
      calls += this.field(type, fieldNodes, scope);
    }
    return calls;
  }

  private field(parent: GraphQLObjectType, fieldNodes: readonly FieldNode[], scope: Scope): number {
    if (++this.visits > MAX_FIELD_VISITS) return Number.POSITIVE_INFINITY;
    const first = fieldNodes[0];
    if (!first || first.name.value.startsWith('__')) return 0;
    const field = parent.getFields()[first.name.value];
    if (!field) return 0;
    const args = this.argumentValues(field, first);
    const priced = priceOf(field)?.(args, scope, field, this.context) ?? { calls: 0 };
    const children = fieldNodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
    if (children.length === 0) return priced.calls;

    let child: Scope;
    if (isListType(getNullableType(field.type))) {
      const rows = priced.rows ?? scope.pageRows ?? UNPAGED_LIST_ROWS;
      const objects = scope.objects * rows;
      child = {
        objects,
        pages: priced.rowsShareAPage === false ? objects : scope.objects,
        depth: scope.depth + 1,
      };
    } else {
      child = { objects: scope.objects, pages: scope.pages, depth: scope.depth + 1 };
      if (priced.rows !== undefined) child.pageRows = priced.rows;
    }
    return priced.calls + this.selection(field.type, children, child);
  }

  private argumentValues(field: GraphQLField<unknown, unknown>, node: FieldNode): Record<string, unknown> {
    try {
      return getArgumentValues(field, node, this.variables);
    } catch {
      // Execution fails this field before its resolver runs; pricing it with defaults overstates.
      return {};
    }
  }

  /** Response key to field nodes, as execution groups them for an object of this type. */
  private collectFields(
    type: GraphQLObjectType,
    selectionSets: readonly SelectionSetNode[],
  ): Map<string, FieldNode[]> {
    const fields = new Map<string, FieldNode[]>();
    const visited = new Set<string>();
    const visit = (selectionSet: SelectionSetNode): void => {
      for (const selection of selectionSet.selections) {
        if (!this.included(selection)) continue;
        switch (selection.kind) {
          case Kind.FIELD: {
            const key = selection.alias?.value ?? selection.name.value;
            const group = fields.get(key);
            if (group) group.push(selection);
            else fields.set(key, [selection]);
            break;
          }
          case Kind.INLINE_FRAGMENT:
            if (this.applies(selection.typeCondition?.name.value, type)) visit(selection.selectionSet);
            break;
          case Kind.FRAGMENT_SPREAD: {
            const name = selection.name.value;
            const fragment = this.fragments.get(name);
            if (visited.has(name) || !fragment) break;
            visited.add(name);
            if (this.applies(fragment.typeCondition.name.value, type)) visit(fragment.selectionSet);
            break;
          }
        }
      }
    };
    for (const selectionSet of selectionSets) visit(selectionSet);
    return fields;
  }

  private included(node: SelectionNode): boolean {
    const skip = getDirectiveValues(GraphQLSkipDirective, node, this.variables);
    if (skip?.if === true) return false;
    const include = getDirectiveValues(GraphQLIncludeDirective, node, this.variables);
    return include?.if !== false;
  }

  private applies(condition: string | undefined, type: GraphQLObjectType): boolean {
    if (condition === undefined || condition === type.name) return true;
    const conditionType = this.schema.getType(condition);
    return isAbstractType(conditionType) && this.schema.isSubType(conditionType, type);
  }
}
