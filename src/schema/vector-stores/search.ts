import { GraphQLError } from 'graphql';
import type { SearchResult } from '../../upstream/index.ts';
import { OPENAI_LIMITS } from '../../upstream/index.ts';
import { builder } from '../builder.ts';
import { costs, price } from '../cost.ts';
import { encodeNestedId } from '../ids.ts';
import { VectorStoreFileRef } from '../vector-store-files/types.ts';
import { FILTER_LIMITS, validateFilter } from './filters.ts';
import { VectorStoreRef } from './types.ts';

interface SearchHit extends SearchResult {
  vectorStoreId: string;
}

const RESULTS = OPENAI_LIMITS.searchResults;

const VectorStoreSearchResult = builder.objectRef<SearchHit>('VectorStoreSearchResult').implement({
  description: 'A chunk of a file that matches a search, with its relevance.',
  fields: (t) => ({
    file: t.field({
      // The loader lists the store's files only when that is cheaper than retrieving the hits one
      // by one, which depends on the store's size: per result is the bound that holds for any.
      ...costs(price.lookup),
      type: VectorStoreFileRef,
      nullable: true,
      description: 'The vector store file the chunk comes from; batched with the other results.',
      resolve: (hit, _args, context) =>
        context.loaders.vectorStoreFile.load(encodeNestedId(hit.vectorStoreId, hit.file_id)),
    }),
    filename: t.exposeString('filename', { description: 'The name of the file the chunk comes from.' }),
    score: t.exposeFloat('score', { description: 'Relevance between 0 and 1; higher is better.' }),
    attributes: t.field({
      type: 'JSONObject',
      nullable: true,
      description: "The file's attributes.",
      resolve: (hit) => hit.attributes ?? null,
    }),
    content: t.stringList({
      description: 'The matching text chunks.',
      resolve: (hit) => hit.content.filter((part) => part.type === 'text').map((part) => part.text),
    }),
  }),
});

builder.objectField(VectorStoreRef, 'search', (t) =>
  t.field({
    ...costs(price.search),
    type: [VectorStoreSearchResult],
    nullable: true,
    description:
      'Searches the chunks of this store for relevant text, best match first. Null when the search failed (the error says why).',
    args: {
      query: t.arg.string({ required: true, description: 'What to look for.' }),
      maxResults: t.arg.int({
        description: `How many results at most (1..${RESULTS.max}, default ${RESULTS.default}).`,
      }),
      filters: t.arg({
        type: 'JSONObject',
        description: `An OpenAI attribute filter, e.g. \`{type: "eq", key: "author", value: "Ada"}\`, or \`and\`/\`or\` of filters (at most ${FILTER_LIMITS.depth} deep, ${FILTER_LIMITS.comparisons} comparisons).`,
      }),
      rewriteQuery: t.arg.boolean({
        description: 'Let OpenAI rewrite the query for search (default false).',
      }),
    },
    resolve: async (store, args, context) => {
      if (args.maxResults != null && (args.maxResults < 1 || args.maxResults > RESULTS.max)) {
        throw new GraphQLError(
          `\`maxResults\` must be between 1 and ${RESULTS.max}, got ${args.maxResults}.`,
          {
            extensions: { code: 'BAD_USER_INPUT', argument: 'maxResults' },
          },
        );
      }
      const request = {
        query: args.query,
        max_num_results: args.maxResults ?? undefined,
        filters: args.filters == null ? undefined : validateFilter(args.filters, 'filters'),
        rewrite_query: args.rewriteQuery ?? undefined,
      };
      const { data: results } = await context.loaders.read(
        ['vectorStores.search', store.id, request],
        (upstream) => upstream.search(store.id, request),
      );
      return results.map((result) => ({ ...result, vectorStoreId: store.id }));
    },
  }),
);
