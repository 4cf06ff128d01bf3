/**
 * `@defer` and `@stream`, declared in the schema itself, as @graphql-yoga/plugin-defer-stream
 * would add them (graphql-tools' definitions): the schema served, printed (schema.graphql) and
 * priced (cost.ts) is then one and the same, and the plugin, finding them, leaves it alone. The
 * plugin brings their validation rules and yoga's executor delivers them incrementally.
 */
import {
  DirectiveLocation,
  GraphQLBoolean,
  GraphQLDirective,
  GraphQLInt,
  GraphQLNonNull,
  GraphQLString,
} from 'graphql';

export const GraphQLDeferDirective = new GraphQLDirective({
  name: 'defer',
  description: 'Directs the executor to defer this fragment when the `if` argument is true or undefined.',
  locations: [DirectiveLocation.FRAGMENT_SPREAD, DirectiveLocation.INLINE_FRAGMENT],
  args: {
    if: {
      type: new GraphQLNonNull(GraphQLBoolean),
      description: 'Deferred when true or undefined.',
      defaultValue: true,
    },
    label: { type: GraphQLString, description: 'Unique name' },
  },
});

export const GraphQLStreamDirective = new GraphQLDirective({
  name: 'stream',
  description: 'Directs the executor to stream plural fields when the `if` argument is true or undefined.',
  locations: [DirectiveLocation.FIELD],
  args: {
    if: {
      type: new GraphQLNonNull(GraphQLBoolean),
      description: 'Stream when true or undefined.',
      defaultValue: true,
    },
    label: { type: GraphQLString, description: 'Unique name' },
    initialCount: { type: GraphQLInt, description: 'Number of items to return immediately', defaultValue: 0 },
  },
});
