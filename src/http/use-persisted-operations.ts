/**
 * Persisted operations, in one of two exclusive modes.
 *
 * - Automatic persisted queries (Apollo's APQ, the default): a client sends the sha256 of its
 *   query; the gateway answers `PersistedQueryNotFound` until the client has sent the hash with
 *   the text once. Any other operation still runs. Kept in a bounded in-process LRU.
 * - Trusted documents (a manifest configured): only the manifest's documents run, named by their
 *   id; any text, and any id not in the manifest, is refused before parsing.
 *
 * Both resolve the document in `onParams`, the hook every HTTP request reaches after its body is
 * parsed (JSON, GET, SSE, and the gateway's own multipart parser for uploads), before yoga parses,
 * validates and prices it: the query limits and the cost estimate see the resolved document. For
 * a transport that bypasses yoga's HTTP hooks (graphql-ws), `resolve` applies the same rule to
 * its message payload.
 */
// @graphql-yoga/plugin-apq 3.6.2, the only 3.x on our registry, declares a peer
// `@graphql-tools/utils ^10` that its code never loads, while yoga 5.24 needs ^11; package.json
// lists utils 10.11.0 only to satisfy that peer (upstream dropped it in 3.10.5). Remove it when
// a plugin-apq past 3.10.5 can be installed.
import { useAPQ } from '@graphql-yoga/plugin-apq';
import {
  defaultExtractPersistedOperationId,
  usePersistedOperations,
} from '@graphql-yoga/plugin-persisted-operations';
import { GraphQLError, type GraphQLSchema, parse, validate } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Hashes kept by APQ. A client registers each of its operations once per process; a few hundred
 * distinct operations is a large application, so 1000 keeps every client's set while an attacker
 * registering junk only evicts entries (costing their clients one more round trip), never grows
 * memory.
 */
export const APQ_MAX_ENTRIES = 1000;

/**
 * The longest query text APQ keeps, in UTF-16 code units: with APQ_MAX_ENTRIES, at most 16 MiB of
 * text (32 MiB in memory) whatever is sent. The token limit (1000 by default) makes a real query
 * a few KiB at most; a longer one still runs, it is just not kept, and its client sends it again.
 */
export const APQ_MAX_QUERY_LENGTH = 16 * 1024;

/** Where clients put a document's id besides Apollo's `extensions.persistedQuery`: Relay's names. */
const ID_PARAMS = ['documentId', 'doc_id'] as const;

/** The request parameters that make a GET run an operation (the CSRF check needs them all). */
export const OPERATION_PARAMS = ['query', 'extensions', ...ID_PARAMS] as const;

interface Refusal {
  message: string;
  extensions: { code: string; http: { status: number } };
}

/** How trusted-documents mode refuses, over HTTP (the plugin's errors) and elsewhere (`resolve`). */
const REFUSALS = {
  notFound: {
    message:
      "This operation is not one of the gateway's trusted documents: only the operations of its manifest run.",
    extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST', http: { status: 400 } },
  },
  persistedQueryOnly: {
    message:
      "This gateway runs trusted documents only: send the document's id (`extensions.persistedQuery.sha256Hash`, `documentId` or `doc_id`), not its text.",
    extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
  },
  keyNotFound: {
    message:
      "The request names no operation: send a trusted document's id (`extensions.persistedQuery.sha256Hash`, `documentId` or `doc_id`).",
    extensions: { code: 'PERSISTED_QUERY_ID_REQUIRED', http: { status: 400 } },
  },
} satisfies Record<string, Refusal>;

/** What the APQ plugin answers a hash it does not know, for `resolve` to answer the same. */
const APQ_NOT_FOUND: Refusal = {
  message: 'PersistedQueryNotFound',
  extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 404 } },
};

function refusal(which: Refusal): GraphQLError {
  return new GraphQLError(which.message, { extensions: which.extensions });
}

/** The parameters of one operation as a client sends them, before persisted ids are resolved. */
export interface PersistedParams {
  query?: unknown;
  extensions?: unknown;
  documentId?: unknown;
  doc_id?: unknown;
}

/** An operation's text, or why it may not run. */
export type PersistedResolution = { query: string } | { refusal: GraphQLError };

export interface PersistedOperations {
  plugin: Plugin;
  /**
   * The rule the plugin applies, for a transport that does not run yoga's HTTP hooks: call it on
   * each operation's parameters (a graphql-ws `subscribe` payload) and execute `query`, or answer
   * with `refusal`. APQ registration (hash and text together) happens over HTTP only.
   */
  resolve(params: PersistedParams): PersistedResolution;
  mode: 'apq' | 'trusted';
}

/**
 * The id a client names its operation by: Apollo's and GraphQL Code Generator's
 * `extensions.persistedQuery.sha256Hash` (the plugin's default reads it), else Relay's
 * `documentId` or `doc_id`, in the body or, for a GET (whose parser drops unknown parameters),
 * in the URL.
 */
export function persistedOperationId(params: PersistedParams, request?: Request): string | null {
  const apollo = defaultExtractPersistedOperationId(params as never, request as never, {});
  if (apollo !== null) return apollo;
  const search = request?.method === 'GET' ? new URL(request.url).searchParams : undefined;
  for (const name of ID_PARAMS) {
    const id = params[name] ?? search?.get(name);
    if (typeof id === 'string' && id !== '') return id;
  }
  return null;
}

/**
 * A manifest as client tooling writes it, `{ "<id>": "<document>" }` (Relay's persisted queries,
 * GraphQL Code Generator's `persisted-documents.json`), checked whole: every document parses and
 * is valid against the schema, so a manifest built for another API fails at start, not per call.
 */
export function parseTrustedDocuments(manifest: unknown, schema: GraphQLSchema): Map<string, string> {
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) {
    throw new Error('the manifest must be a JSON object mapping document ids to documents');
  }
  const documents = new Map<string, string>();
  for (const [id, document] of Object.entries(manifest)) {
    if (typeof document !== 'string' || id === '') {
      throw new Error(`entry '${id.slice(0, 80)}' must map a non-empty id to a document's text`);
    }
    let problems: readonly GraphQLError[];
    try {
      problems = validate(schema, parse(document));
    } catch (error) {
      problems = [error as GraphQLError];
    }
    if (problems.length > 0) {
      throw new Error(`document '${id.slice(0, 80)}' is not valid here: ${problems[0]!.message}`);
    }
    documents.set(id, document);
  }
  if (documents.size === 0) throw new Error('the manifest holds no document');
  return documents;
}

/** APQ's store: least recently used entries go first, and oversized queries are not kept. */
export class BoundedQueryStore {
  private readonly entries = new Map<string, string>();

  constructor(
    private readonly maxEntries = APQ_MAX_ENTRIES,
    private readonly maxQueryLength = APQ_MAX_QUERY_LENGTH,
  ) {}

  get(hash: string): string | undefined {
    const query = this.entries.get(hash);
    if (query === undefined) return undefined;
    // A Map iterates in insertion order: re-inserting makes it the most recently used.
    this.entries.delete(hash);
    this.entries.set(hash, query);
    return query;
  }

  set(hash: string, query: string): void {
    if (query.length > this.maxQueryLength) return;
    this.entries.delete(hash);
    this.entries.set(hash, query);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}

function useAutomaticPersistedQueries(): PersistedOperations {
  const store = new BoundedQueryStore();
  return {
    mode: 'apq',
    plugin: useAPQ({ store }),
    resolve(params) {
      if (typeof params.query === 'string') return { query: params.query };
      const hash = persistedOperationId(params);
      const query = hash === null ? undefined : store.get(hash);
      return query === undefined ? { refusal: refusal(APQ_NOT_FOUND) } : { query };
    },
  };
}

function useTrustedDocuments(documents: ReadonlyMap<string, string>): PersistedOperations {
  return {
    mode: 'trusted',
    plugin: usePersistedOperations({
      getPersistedOperation: (id) => documents.get(id) ?? null,
      extractPersistedOperationId: (params, request) => persistedOperationId(params, request),
      allowArbitraryOperations: false,
      // Validation is where the depth, alias and directive limits are: it must run on these too.
      skipDocumentValidation: false,
      customErrors: REFUSALS,
    }) as Plugin,
    resolve(params) {
      // The plugin's order and tests: any text first, then the id, then the manifest.
      if (params.query) return { refusal: refusal(REFUSALS.persistedQueryOnly) };
      const id = persistedOperationId(params);
      if (id === null) return { refusal: refusal(REFUSALS.keyNotFound) };
      const query = documents.get(id);
      return query === undefined ? { refusal: refusal(REFUSALS.notFound) } : { query };
    },
  };
}

/** A manifest given to the app, checked; none when trusted-documents mode is off. */
export function trustedDocumentsOf(
  manifest: Readonly<Record<string, string>> | undefined,
  schema: GraphQLSchema,
): ReadonlyMap<string, string> | undefined {
  if (!manifest) return undefined;
  try {
    return parseTrustedDocuments(manifest, schema);
  } catch (error) {
    throw new Error(`Trusted documents: ${(error as Error).message}`);
  }
}

/** Trusted documents when a manifest is given (APQ is then off), else APQ. */
export function usePersisted(trustedDocuments: ReadonlyMap<string, string> | undefined): PersistedOperations {
  return trustedDocuments ? useTrustedDocuments(trustedDocuments) : useAutomaticPersistedQueries();
}
