import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type GraphQLResponse, seedStore, startGateway, type TestGateway } from '../support/gateway.ts';

/** What Apollo Client sends when an operation has `@defer` (its HttpLink's default accept). */
const APOLLO_DEFER_ACCEPT = 'multipart/mixed;deferSpec=20220824,application/json';

const SEARCH_ROUTE = 'POST /v1/vector_stores/{vector_store_id}/search';
const FILES_ROUTE = 'GET /v1/vector_stores/{vector_store_id}/files';
/** How long the emulator holds the slow route: far above what the rest of a query takes. */
const SLOW_MS = 1_000;

interface Part {
  /** Milliseconds from the request to this part's arrival. */
  at: number;
  payload: GraphQLResponse & {
    hasNext?: boolean;
    incremental?: Array<{ data?: Record<string, unknown>; items?: unknown[]; path: Array<string | number> }>;
    extensions?: Record<string, unknown>;
  };
}

/**
 * Reads a multipart/mixed answer part by part, as Apollo Client's HttpLink does, noting when each
 * part arrived.
 */
async function deferred(
  gateway: TestGateway,
  query: string,
  variables: Record<string, unknown>,
): Promise<{ contentType: string | null; parts: Part[] }> {
  const started = performance.now();
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: APOLLO_DEFER_ACCEPT },
    body: JSON.stringify({ query, variables }),
  });
  const contentType = response.headers.get('content-type');
  const boundary = /boundary="?([^";]+)"?/.exec(contentType ?? '')?.[1];
  const parts: Part[] = [];
  if (!boundary) {
    parts.push({ at: performance.now() - started, payload: (await response.json()) as Part['payload'] });
    return { contentType, parts };
  }
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    // Each part: headers, a blank line, a JSON body, then the next delimiter.
    for (
      let end = buffered.indexOf(`\r\n--${boundary}`, 1);
      end !== -1;
      end = buffered.indexOf(`\r\n--${boundary}`, 1)
    ) {
      const part = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const body = part.slice(part.indexOf('\r\n\r\n') + 4).trim();
      if (body.startsWith('{')) parts.push({ at: performance.now() - started, payload: JSON.parse(body) });
    }
  }
  return { contentType, parts };
}

const STORE_WITH_SEARCH = `
  query StoreWithSearch($id: ID!) {
    vectorStore(id: $id) {
      name
      ... @defer(label: "search") {
        search(query: "vector stores") { filename }
      }
    }
  }
`;

describe('@defer and @stream over multipart/mixed', () => {
  let gateway: TestGateway;
  let storeId: string;
  beforeAll(async () => {
    gateway = await startGateway();
    storeId = (await seedStore(gateway.openai, { name: 'Deferred store', files: 2 })).storeId;
  });
  beforeEach(() => {
    gateway.emulator.setFaults(null);
    gateway.resetUpstreamCalls();
  });
  afterAll(() => gateway.close());

  it('answers the rest first, then a slow search, as Apollo Client reads it', async () => {
    gateway.emulator.setFaults({ routes: { [SEARCH_ROUTE]: { latencyMs: SLOW_MS } } });
    const { contentType, parts } = await deferred(gateway, STORE_WITH_SEARCH, { id: storeId });
    expect(contentType).toMatch(/^multipart\/mixed/);
    expect(parts).toHaveLength(2);
    const [initial, rest] = parts as [Part, Part];

    expect(initial.payload.data).toEqual({ vectorStore: { name: 'Deferred store' } });
    expect(initial.payload.hasNext).toBe(true);
    // Priced as a whole: the store and its search, deferred or not.
    expect(initial.payload.extensions?.cost).toEqual({ upstreamCalls: 2, limit: 150 });

    expect(rest.payload.hasNext).toBe(false);
    expect(rest.payload.incremental).toHaveLength(1);
    const [delivered] = rest.payload.incremental!;
    expect(delivered?.path).toEqual(['vectorStore']);
    const hits = (delivered!.data!.search as Array<{ filename: string }>).map((hit) => hit.filename);
    expect(hits.sort()).toEqual(['Deferred store-0.txt', 'Deferred store-1.txt']);
    // The initial part did not wait for the search.
    expect(rest.at - initial.at).toBeGreaterThan(SLOW_MS * 0.8);
    expect(gateway.emulator.stats().byRoute[SEARCH_ROUTE]).toBe(1);
  });

  it('defers a files connection the same way', async () => {
    gateway.emulator.setFaults({ routes: { [FILES_ROUTE]: { latencyMs: SLOW_MS } } });
    const query = `
      query StoreFiles($id: ID!) {
        vectorStore(id: $id) {
          name
          ...StoreFileList @defer
        }
      }
      fragment StoreFileList on VectorStore {
        files(first: 10) { nodes { file { filename } } }
      }
    `;
    const { parts } = await deferred(gateway, query, { id: storeId });
    expect(parts).toHaveLength(2);
    const [initial, rest] = parts as [Part, Part];
    expect(initial.payload.data).toEqual({ vectorStore: { name: 'Deferred store' } });
    const files = rest.payload.incremental?.[0]?.data?.files as {
      nodes: Array<{ file: { filename: string } }>;
    };
    expect(files.nodes.map((node) => node.file.filename).sort()).toEqual([
      'Deferred store-0.txt',
      'Deferred store-1.txt',
    ]);
    expect(rest.at - initial.at).toBeGreaterThan(SLOW_MS * 0.8);
  });

  it('streams a list with @stream after its first items', async () => {
    await gateway.openai.vectorStores.create({ name: 'Second store' });
    const { parts } = await deferred(
      gateway,
      'query Stores { vectorStores(first: 5) { nodes @stream(initialCount: 1) { name } } }',
      {},
    );
    expect(parts.length).toBeGreaterThan(1);
    const [initial, ...rest] = parts as [Part, ...Part[]];
    expect((initial.payload.data!.vectorStores as { nodes: unknown[] }).nodes).toHaveLength(1);
    const streamed = rest
      .flatMap((part) => part.payload.incremental ?? [])
      .flatMap((item) => item.items ?? []);
    expect(streamed).toHaveLength(1);
    expect(parts.at(-1)?.payload.hasNext).toBe(false);
  });

  it('still refuses an operation over the cost limit when the expensive part is deferred', async () => {
    const query = `
      query Everything {
        vectorStores(first: 100) {
          nodes { ... @defer { files(first: 100) { nodes { file { filename } } } } }
        }
      }
    `;
    const { contentType, parts } = await deferred(gateway, query, {});
    expect(contentType).toMatch(/^application\/json/);
    expect(parts).toHaveLength(1);
    expect(parts[0]?.payload.errors?.[0]?.extensions).toMatchObject({
      code: 'QUERY_TOO_EXPENSIVE',
      cost: 201,
      limit: 150,
    });
    expect(gateway.upstreamCalls()).toBe(0);
  });

  it('is not refused by the directive limit for a normal use of several @defer', async () => {
    const query = `
      query Dashboard($id: ID!) {
        vectorStore(id: $id) {
          name
          ... @defer(label: "counts") { fileCounts { total } }
          ... @defer(label: "search") { search(query: "vector") { filename } }
          ... @defer(label: "files") { files(first: 5) { nodes { status } } }
        }
      }
    `;
    const { parts } = await deferred(gateway, query, { id: storeId });
    expect(parts.flatMap((part) => part.payload.errors ?? [])).toEqual([]);
    const delivered = parts
      .flatMap((part) => part.payload.incremental ?? [])
      .flatMap((item) => Object.keys(item.data ?? {}));
    expect(delivered.sort()).toEqual(['fileCounts', 'files', 'search']);
    expect(parts.at(-1)?.payload.hasNext).toBe(false);
  });
});
