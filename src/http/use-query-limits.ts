/**
 * Limits checked before any resolver runs, so a rejected operation costs no upstream call: the
 * shape limits of graphql-armor (depth, aliases and directives as validation rules, tokens in the
 * parser), and the upstream-call estimate of schema/cost.ts against its limit. Depth counts the
 * levels of the response (fragments add none), so a query means the same whether or not a client
 * splits it into fragments.
 *
 * The cost check runs as execution starts rather than as a validation rule: yoga caches
 * validation per document, and the cost depends on the variables.
 */
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  type OperationDefinitionNode,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { estimateUpstreamCalls } from '../schema/cost.ts';

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
 * rejects 100 stores with 100 files and their details (201).
 */
export const defaultQueryLimits: Readonly<QueryLimits> = Object.freeze({
  maxDepth: 10,
  maxAliases: 15,
  maxTokens: 1000,
  maxDirectives: 50,
  maxUpstreamCalls: 150,
});

/**
 * 12345 as "12,345", as en-US writes it. Not Intl.NumberFormat: building one, even once at load,
 * maps about 4 MB of ICU's locale data into the process for good (measured at rest).
 */
function formatCount(count: number): string {
  const [whole = '', fraction] = String(count).split('.');
  return whole.replace(/\B(?=(\d{3})+$)/g, ',') + (fraction ? `.${fraction}` : '');
}

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
    ? `${kind} would make up to ${formatCount(cost)} upstream calls; the limit is ${formatCount(limit)}.`
    : `${kind} is too large to price; the limit is ${formatCount(limit)} upstream calls.`;
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
    contextValue?: unknown;
  },
  limit: number,
): CostCheck {
  const cost = estimateUpstreamCalls({
    schema: args.schema,
    document: args.document,
    variables: args.variableValues,
    operationName: args.operationName,
    context: args.contextValue,
  });
  if (cost === null) return {};
  if (cost <= limit) return { cost };
  const kind = operationLabel(getOperationAST(args.document, args.operationName));
  return { cost, rejection: tooExpensiveError(kind, cost, limit) };
}

/** The context's upstream-call budget, where the context has one (the gateway's does). */
function budgetOf(context: unknown): { setLimit(limit: number): void } | undefined {
  const budget = (context as { budget?: { setLimit?: unknown } } | null)?.budget;
  return typeof budget?.setLimit === 'function' ? (budget as { setLimit(limit: number): void }) : undefined;
}

/**
 * One yoga plugin for every limit: `createYoga({ plugins: [useQueryLimits()] })`.
 * Successful responses carry `extensions.cost: { upstreamCalls, limit }`, the estimate.
 */
export function useQueryLimits(options: Partial<QueryLimits> = {}): Plugin<Record<string, unknown>> {
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
      // The estimate becomes the operation's budget: no call beyond it is made. An operation
      // that cannot be priced fails before any resolver runs, and may make none.
      budgetOf(args.contextValue)?.setLimit(cost ?? 0);
      if (cost === undefined) return;
      const estimate = { upstreamCalls: cost, limit: limits.maxUpstreamCalls };
      return {
        onExecuteDone({ result, setResult }) {
          if (!(Symbol.asyncIterator in result)) {
            setResult({ ...result, extensions: { ...result.extensions, cost: estimate } });
            return undefined;
          }
          // Incremental delivery (@defer, @stream): the estimate, of the whole operation, deferred
          // parts included, goes with the initial payload.
          let initial = true;
          return {
            onNext({ result: part, setResult: setPart }) {
              if (!initial) return;
              initial = false;
              setPart({ ...part, extensions: { ...part.extensions, cost: estimate } });
            },
          };
        },
      };
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const { rejection } = checkCost(args, limits.maxUpstreamCalls);
      if (rejection) setResultAndStopExecution({ errors: [rejection] });
    },
  };
}
