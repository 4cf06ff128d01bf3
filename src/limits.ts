/**
 * Limits checked before any resolver runs, so a rejected operation costs no upstream call.
 *
 * Shape limits come from graphql-armor: depth, aliases, directives (validation rules) and tokens
 * (in the parser). Depth counts the levels of the response (fragments, inline or named, add none),
 * so a query means the same whether or not a client splits it into fragments.
 *
 * The upstream-cost limit is this gateway's own: OpenAI is paid and rate-limited, so what matters
 * is how many upstream calls an operation may make, not how many fields it names. The estimate is
 * an upper bound for the loaders of src/schema as they are, priced per field:
 *
 * - Connections (`Query.vectorStores`, `Query.files`, `VectorStore.files`, `FileBatch.files`, and
 *   any future field taking `first`/`last`): 1 call each time the field is resolved. Its page holds
 *   `first ?? last ?? 20` rows, clamped to 1..100 (the resolver rejects other values anyway).
 * - Lookups by id (`Query.vectorStore`, `Query.file`, `Query.node`, `VectorStore.file`,
 *   `VectorStore.fileBatch`): 1 each time resolved. `Query.nodes`: 1 per id; its rows may belong to
 *   different stores, so nothing below it is counted as batched.
 * - `VectorStore.search`: 1 per store searched, `maxResults ?? 10` rows (clamped to 1..50).
 * - Batched per page, not per row: `VectorStoreFile.file` (the file loader answers a page of rows
 *   from one shared `GET /files`) and `VectorStoreFile.vectorStore` / `FileBatch.vectorStore` (the
 *   rows of one page share one store, which the loader dedupes). 1 per page of parent rows; a page
 *   here is a connection page, a search's results or a mutation payload's list.
 * - `VectorStoreSearchResult.file`: 1 per result. The loader lists the store's files only when that
 *   is cheaper than retrieving the hits one by one, which depends on the store's size: per result
 *   is the bound that holds for any store.
 * - Mutation fields: `MUTATION_CALLS` each, plus 1 per `Upload` in their arguments (each file is
 *   one `POST /files`). The rest of a write (attach, re-reads) varies with the input and with
 *   OpenAI's answers, so it is the constant. Their payloads are priced like any selection.
 * - A list the schema does not page (a payload's `files`, say) counts `UNPAGED_LIST_ROWS` rows and
 *   is one page. Introspection, scalars and fields not named here cost 0.
 *
 * Fragments are followed and fields merged as execution merges them; `@skip`/`@include` are
 * honoured; for an abstract type the most expensive possible type counts. Not modelled: a
 * `last`/`before` read through long runs of same-second items can take more than one page (up to
 * 10), and files beyond the newest 10,000 are retrieved one by one.
 *
 * The check runs as execution starts rather than as a validation rule: yoga caches validation per
 * document, and the cost depends on the variables.
 */
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLField,
  GraphQLIncludeDirective,
  type GraphQLInputType,
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
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface QueryLimits {
  /** Levels of the response, leaves included; fragments add none. */
  maxDepth: number;
  /** Aliased fields (`__typename` aliases are free). */
  maxAliases: number;
  /** Lexical tokens of the document. */
  maxTokens: number;
  maxDirectives: number;
  /** Upper bound on the upstream calls one operation may make (see the module header). */
  maxUpstreamCalls: number;
}

/**
 * The deepest query the README or a Relay client plausibly sends is the dashboard written with
 * edges (`vectorStores>edges>node>files>edges>node>file>filename`): depth 8 (6 with `nodes`). The
 * README's queries are 51 and 52 tokens, GraphiQL's introspection query 184. 150 upstream calls
 * passes the dashboard (priced 41, measured 22) and 100 stores with 100 file ids each (101), and
 * rejects 100 stores with 100 files and their details (201), as issue 5 asks.
 */
export const defaultQueryLimits: Readonly<QueryLimits> = Object.freeze({
  maxDepth: 10,
  maxAliases: 15,
  maxTokens: 1000,
  maxDirectives: 50,
  maxUpstreamCalls: 150,
});

/**
 * Validation rejects fragment cycles, but a server may skip validation (trusted documents); and
 * fragments spread under several fields are walked once per field, which a hostile document can
 * make exponential. Past either bound the walk stops and the operation is priced as unbounded.
 */
const MAX_WALK_DEPTH = 64;
const MAX_FIELD_VISITS = 20_000;
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;
const DEFAULT_SEARCH_RESULTS = 10;
const MAX_SEARCH_RESULTS = 50;
/** One write per mutation field; what else it costs depends on its input and OpenAI's answers. */
export const MUTATION_CALLS = 1;
/** A list without paging arguments may be as long as the longest page. */
export const UNPAGED_LIST_ROWS = MAX_PAGE_SIZE;

/** How many times a selection is resolved, and how many pages those objects come in. */
interface Scope {
  objects: number;
  pages: number;
  depth: number;
  /** Set on a connection object: the rows its `edges`/`nodes` carry. */
  pageRows?: number;
}

interface Priced {
  calls: number;
  /** The rows a list-typed field returns, for each time it is resolved. */
  rows?: number;
  /** Whether the rows of one resolution batch together (one page), or each stands alone. */
  rowsShareAPage?: boolean;
}

type FieldPricing = (args: Record<string, unknown>, scope: Scope) => Priced;

const connection: FieldPricing = (args, scope) => ({
  calls: scope.objects,
  rows: pageSize(args),
});
const lookup: FieldPricing = (_args, scope) => ({ calls: scope.objects });
const perPage: FieldPricing = (_args, scope) => ({ calls: scope.pages });

const FIELD_PRICING: Readonly<Record<string, FieldPricing>> = {
  'Query.vectorStores': connection,
  'Query.files': connection,
  'VectorStore.files': connection,
  'FileBatch.files': connection,
  'Query.vectorStore': lookup,
  'Query.file': lookup,
  'Query.node': lookup,
  'VectorStore.file': lookup,
  'VectorStore.fileBatch': lookup,
  'VectorStoreSearchResult.file': lookup,
  'Query.nodes': (args, scope) => {
    const ids = Array.isArray(args.ids) ? args.ids.length : 1;
    return { calls: scope.objects * ids, rows: ids, rowsShareAPage: false };
  },
  'VectorStore.search': (args, scope) => ({
    calls: scope.objects,
    rows: clamp(args.maxResults, DEFAULT_SEARCH_RESULTS, MAX_SEARCH_RESULTS),
  }),
  'VectorStoreFile.file': perPage,
  'VectorStoreFile.vectorStore': perPage,
  'FileBatch.vectorStore': perPage,
};

function clamp(value: unknown, fallback: number, max: number): number {
  const n = typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : fallback;
  return Math.min(max, Math.max(1, n));
}

function pageSize(args: Record<string, unknown>): number {
  return clamp(args.first ?? args.last, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
}

function countUploads(type: GraphQLInputType, value: unknown): number {
  if (value == null) return 0;
  const nullable = isNonNullType(type) ? type.ofType : type;
  if (isListType(nullable)) {
    const items = Array.isArray(value) ? value : [value];
    return items.reduce<number>((sum, item) => sum + countUploads(nullable.ofType, item), 0);
  }
  if (isInputObjectType(nullable) && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return Object.values(nullable.getFields()).reduce(
      (sum, field) => sum + countUploads(field.type, record[field.name]),
      0,
    );
  }
  return isScalarType(nullable) && nullable.name === 'Upload' ? 1 : 0;
}

const mutationField =
  (field: GraphQLField<unknown, unknown>): FieldPricing =>
  (args, scope) => ({
    calls:
      scope.objects *
      (MUTATION_CALLS + field.args.reduce((sum, arg) => sum + countUploads(arg.type, args[arg.name]), 0)),
  });

function pricingOf(
  schema: GraphQLSchema,
  parent: GraphQLObjectType,
  field: GraphQLField<unknown, unknown>,
): FieldPricing | undefined {
  const known = FIELD_PRICING[`${parent.name}.${field.name}`];
  if (known) return known;
  if (parent === schema.getMutationType()) return mutationField(field);
  const paged = field.args.some((arg) => arg.name === 'first' || arg.name === 'last');
  if (paged && isObjectType(getNullableType(field.type))) return connection;
  return undefined;
}

export interface CostInput {
  schema: GraphQLSchema;
  document: DocumentNode;
  variables?: Readonly<Record<string, unknown>> | null | undefined;
  operationName?: string | null | undefined;
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
  const walker = new CostWalker(input.schema, fragments, coerced.coerced);
  return walker.selection(root, [operation.selectionSet], { objects: 1, pages: 1, depth: 0 });
}

class CostWalker {
  private visits = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
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
    const priced = pricingOf(this.schema, parent, field)?.(args, scope) ?? { calls: 0 };
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

const formatCount = new Intl.NumberFormat('en-US');

function operationLabel(operation: OperationDefinitionNode | null | undefined): string {
  switch (operation?.operation) {
    case 'mutation':
      return 'Mutation';
    case 'subscription':
      return 'Subscription';
    default:
      return 'Query';
  }
}

export function tooExpensiveError(kind: string, cost: number, limit: number): GraphQLError {
  const message = Number.isFinite(cost)
    ? `${kind} would make up to ${formatCount.format(cost)} upstream calls; the limit is ${formatCount.format(limit)}.`
    : `${kind} is too large to price; the limit is ${formatCount.format(limit)} upstream calls.`;
  return new GraphQLError(message, {
    extensions: { code: 'QUERY_TOO_EXPENSIVE', cost: Number.isFinite(cost) ? cost : null, limit },
  });
}

/**
 * armor throws its rejections with a "Syntax Error:" prefix, which misleads for a valid document;
 * reported as validation errors instead, with a code clients can branch on.
 */
function reportAs(code: string, limit: number) {
  return [
    (context: ValidationContext | null, error: GraphQLError): void => {
      context?.reportError(
        new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code, limit } }),
      );
    },
  ];
}

interface CostCheck {
  rejection?: GraphQLError;
  cost?: number;
}

function checkCost(
  args: {
    schema: GraphQLSchema;
    document: DocumentNode;
    variableValues?: Readonly<Record<string, unknown>> | null | undefined;
    operationName?: string | null | undefined;
  },
  limit: number,
): CostCheck {
  const cost = estimateUpstreamCalls({
    schema: args.schema,
    document: args.document,
    variables: args.variableValues,
    operationName: args.operationName,
  });
  if (cost === null) return {};
  if (cost <= limit) return { cost };
  const kind = operationLabel(getOperationAST(args.document, args.operationName));
  return { cost, rejection: tooExpensiveError(kind, cost, limit) };
}

/**
 * One yoga plugin for every limit: add it to `createYoga({ plugins: [createLimitsPlugin()] })`.
 * Successful responses carry `extensions.cost: { upstreamCalls, limit }`, the estimate.
 */
export function createLimitsPlugin(options: Partial<QueryLimits> = {}): Plugin<Record<string, unknown>> {
  const limits: QueryLimits = { ...defaultQueryLimits, ...options };
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(maxTokensPlugin({ n: limits.maxTokens }));
      addPlugin(
        maxDepthPlugin({
          n: limits.maxDepth,
          flattenFragments: true,
          propagateOnRejection: false,
          onReject: reportAs('QUERY_TOO_DEEP', limits.maxDepth),
        }),
      );
      addPlugin(
        maxAliasesPlugin({
          n: limits.maxAliases,
          propagateOnRejection: false,
          onReject: reportAs('TOO_MANY_ALIASES', limits.maxAliases),
        }),
      );
      addPlugin(
        maxDirectivesPlugin({
          n: limits.maxDirectives,
          propagateOnRejection: false,
          onReject: reportAs('TOO_MANY_DIRECTIVES', limits.maxDirectives),
        }),
      );
    },
    onExecute({ args, setResultAndStopExecution }) {
      const { cost, rejection } = checkCost(args, limits.maxUpstreamCalls);
      if (rejection) {
        setResultAndStopExecution({ errors: [rejection] });
        return;
      }
      if (cost === undefined) return;
      return {
        onExecuteDone({ result, setResult }) {
          // Incremental delivery is not enabled; a stream would need its own reporting.
          if (Symbol.asyncIterator in result) return;
          setResult({
            ...result,
            extensions: {
              ...result.extensions,
              cost: { upstreamCalls: cost, limit: limits.maxUpstreamCalls },
            },
          });
        },
      };
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const { rejection } = checkCost(args, limits.maxUpstreamCalls);
      if (rejection) setResultAndStopExecution({ errors: [rejection] });
    },
  };
}
