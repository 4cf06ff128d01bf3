import { GraphQLError } from 'graphql';
import type OpenAI from 'openai';
import type { Context } from '../../context.ts';
import { OPENAI_LIMITS, type SearchResult, type VectorStore } from '../../upstream/index.ts';
import { builder, type JsonObject } from '../builder.ts';
import { costs, price } from '../cost.ts';
import { encodeNestedId } from '../ids.ts';
import { VectorStoreFileRef } from '../vector-store-files/types.ts';
import {
  FILTER_LIMITS,
  filterFromInput,
  SearchFilterInput,
  type SearchFilterShape,
  validateFilter,
} from './filters.ts';
import { VectorStoreRef } from './types.ts';

interface SearchHit extends SearchResult {
  vectorStoreId: string;
}

const RESULTS = OPENAI_LIMITS.searchResults;
const SCORE = OPENAI_LIMITS.scoreThreshold;

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

const SearchRanker = builder.enumType('SearchRanker', {
  description: 'How OpenAI re-ranks the chunks it found.',
  values: {
    AUTO: { value: 'auto', description: 'Its default ranker.' },
    NONE: { value: 'none', description: 'No re-ranking: faster.' },
    DEFAULT_2024_11_15: { value: 'default-2024-11-15', description: 'The ranker of 2024-11-15.' },
  } as const,
});

const RankingOptionsInput = builder.inputType('RankingOptionsInput', {
  description: 'How results are ranked, and which are dropped.',
  fields: (t) => ({
    ranker: t.field({ type: SearchRanker, description: 'The ranker (default AUTO).' }),
    scoreThreshold: t.float({
      description: `Results scoring below this are dropped (${SCORE.min}..${SCORE.max}, default ${SCORE.min}).`,
    }),
  }),
});

interface SearchPage {
  searchQuery: string[];
  results: SearchHit[];
  hasMore: boolean;
}

const VectorStoreSearchPage = builder.objectRef<SearchPage>('VectorStoreSearchPage').implement({
  description: 'What a search answered: the results, and the queries OpenAI searched with.',
  fields: (t) => ({
    searchQuery: t.exposeStringList('searchQuery', {
      description: "The queries searched with: the ones given, or OpenAI's rewrite of them (`rewriteQuery`).",
    }),
    results: t.field({
      type: [VectorStoreSearchResult],
      description: 'The matching chunks, best first.',
      resolve: (page) => page.results,
    }),
    hasMore: t.exposeBoolean('hasMore', { description: 'Whether OpenAI has more results than it gave.' }),
  }),
});

interface SearchArgs {
  query: string;
  queries?: readonly string[] | null;
  maxResults?: number | null;
  filters?: JsonObject | null;
  where?: SearchFilterShape | null;
  rankingOptions?: {
    ranker?: 'auto' | 'none' | 'default-2024-11-15' | null;
    scoreThreshold?: number | null;
  } | null;
  rewriteQuery?: boolean | null;
}

function badArgument(argument: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argument } });
}

/** The arguments as OpenAI takes them, checked before any call. */
function searchRequest(args: SearchArgs): OpenAI.VectorStores.VectorStoreSearchParams {
  if (args.maxResults != null && (args.maxResults < 1 || args.maxResults > RESULTS.max)) {
    throw badArgument(
      'maxResults',
      `\`maxResults\` must be between 1 and ${RESULTS.max}, got ${args.maxResults}.`,
    );
  }
  if (args.filters != null && args.where != null) {
    throw badArgument('where', 'Give the filter once: as `where` (typed) or as `filters` (JSON).');
  }
  const threshold = args.rankingOptions?.scoreThreshold;
  if (threshold != null && (threshold < SCORE.min || threshold > SCORE.max)) {
    throw badArgument(
      'rankingOptions',
      `\`rankingOptions.scoreThreshold\` must be between ${SCORE.min} and ${SCORE.max}, got ${threshold}.`,
    );
  }
  const request: OpenAI.VectorStores.VectorStoreSearchParams = {
    query: args.queries?.length ? [args.query, ...args.queries] : args.query,
  };
  if (args.maxResults != null) request.max_num_results = args.maxResults;
  if (args.filters != null) request.filters = validateFilter(args.filters, 'filters');
  if (args.where != null) request.filters = filterFromInput(args.where, 'where');
  if (args.rankingOptions) {
    request.ranking_options = {
      ...(args.rankingOptions.ranker ? { ranker: args.rankingOptions.ranker } : {}),
      ...(threshold != null ? { score_threshold: threshold } : {}),
    };
  }
  if (args.rewriteQuery != null) request.rewrite_query = args.rewriteQuery;
  return request;
}

/** One search per request for the same arguments, however many fields ask for it. */
async function search(store: VectorStore, args: SearchArgs, context: Context): Promise<SearchPage> {
  const request = searchRequest(args);
  const page = await context.loaders.read(['vectorStores.search', store.id, request], (upstream) =>
    upstream.search(store.id, request),
  );
  return {
    searchQuery: page.searchQuery,
    results: page.data.map((result) => ({ ...result, vectorStoreId: store.id })),
    hasMore: page.hasMore,
  };
}

builder.objectFields(VectorStoreRef, (t) => {
  const args = {
    query: t.arg.string({ required: true, description: 'What to look for.' }),
    queries: t.arg.stringList({ description: 'More queries, searched together with `query`.' }),
    maxResults: t.arg.int({
      description: `How many results at most (1..${RESULTS.max}, default ${RESULTS.default}).`,
    }),
    where: t.arg({
      type: SearchFilterInput,
      description: `A filter on the files' attributes, typed (at most ${FILTER_LIMITS.depth} deep, ${FILTER_LIMITS.comparisons} comparisons).`,
    }),
    filters: t.arg({
      type: 'JSONObject',
      description: `The same filter as OpenAI writes it, e.g. \`{type: "eq", key: "author", value: "Ada"}\`, or \`and\`/\`or\` of filters; an alternative to \`where\`.`,
    }),
    rankingOptions: t.arg({ type: RankingOptionsInput, description: 'How results are ranked and dropped.' }),
    rewriteQuery: t.arg.boolean({ description: 'Let OpenAI rewrite the query for search (default false).' }),
  };
  return {
    search: t.field({
      ...costs(price.search),
      type: [VectorStoreSearchResult],
      nullable: true,
      description:
        'Searches the chunks of this store for relevant text, best match first. Null when the search failed (the error says why).',
      args,
      resolve: async (store, searchArgs, context) => (await search(store, searchArgs, context)).results,
    }),
    searchPage: t.field({
      ...costs(price.search),
      type: VectorStoreSearchPage,
      nullable: true,
      description:
        'The same search, with what OpenAI says of it besides its results (the queries it searched with).',
      args,
      resolve: (store, searchArgs, context) => search(store, searchArgs, context),
    }),
  };
});
