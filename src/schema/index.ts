import { lexicographicSortSchema, specifiedDirectives } from 'graphql';
import { builder } from './builder.ts';
import './credentials.ts';
import { GraphQLDeferDirective, GraphQLStreamDirective } from './incremental.ts';
import './files/types.ts';
import './files/queries.ts';
import './files/orphans.ts';
import './vector-stores/types.ts';
import './vector-stores/queries.ts';
import './vector-store-files/types.ts';
import './vector-stores/search.ts';
import './file-batches/types.ts';
import './subscriptions.ts';
import './vector-stores/mutations.ts';
import './vector-stores/recreate.ts';
import './vector-store-files/mutations.ts';
import './files/mutations.ts';
import './files/delete.ts';
import './files/create.ts';
import './files/orphan-delete.ts';
import './file-batches/mutations.ts';

/** Sorted, so the printed schema.graphql diffs cleanly whatever order the modules load in. */
export const schema = lexicographicSortSchema(
  builder.toSchema({ directives: [...specifiedDirectives, GraphQLDeferDirective, GraphQLStreamDirective] }),
);
