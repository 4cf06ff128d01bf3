/**
 * Runs the recipes of client.ts and operations.ts against a gateway and checks what they do:
 * `npm start` here against `npm start` of the gateway (with its demo data), or the gateway's
 * test/examples tests against a gateway of their own. It prints one JSON summary as its last line.
 *
 *   GATEWAY_URL          the gateway's /graphql (default http://127.0.0.1:4000/graphql)
 *   GATEWAY_TOKEN        a gateway token, when it has tokens
 *   GATEWAY_CREDENTIAL   a named credential
 *   SUBSCRIPTIONS        the transports to watch an upload with: `websocket,sse` (default)
 *   SEARCH_QUERY         what the deferred search of the uploaded files looks for (default `refunds`)
 */
import assert from 'node:assert/strict';
import type { ApolloClient } from '@apollo/client';
import { filter, firstValueFrom } from 'rxjs';
import { createGatewayClient, type GatewayClientOptions } from './client.ts';
import {
  CREATE_STORE,
  RENAME_STORE,
  STORE,
  STORE_SEARCH,
  STORES_PAGE,
  type StoresPageData,
  UPLOAD_FILES,
  WATCH_BATCH,
  type WatchBatchData,
} from './operations.ts';

const PAGE_SIZE = 10;

const options: GatewayClientOptions = {
  url: process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql',
  ...(process.env.GATEWAY_TOKEN ? { token: process.env.GATEWAY_TOKEN } : {}),
  ...(process.env.GATEWAY_CREDENTIAL ? { credential: process.env.GATEWAY_CREDENTIAL } : {}),
  // Node 20 has no global WebSocket; Node 22 and browsers do.
  webSocketImpl: globalThis.WebSocket ?? (await import('ws')).WebSocket,
};
const transports = (process.env.SUBSCRIPTIONS ?? 'websocket,sse').split(',').filter(Boolean) as Array<
  'websocket' | 'sse'
>;

// Apollo reports cache trouble (a field replaced with data loss, a missing possible type) as
// warnings, not errors: collect them, so a recipe that provokes one fails here.
const warnings: string[] = [];
for (const level of ['warn', 'error'] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
    original(...args);
  };
}

const { client, close } = createGatewayClient(options);
try {
  const stores = await pageThroughStores(client);
  const upload = await uploadTwoFiles(client);
  const subscriptions: Record<string, string[]> = {};
  // Both transports watch the same batch at once, from its first state to its last.
  await Promise.all(
    transports.map(async (transport) => {
      subscriptions[transport] = await watchBatch(transport, upload.batchId);
    }),
  );
  const search = await searchDeferred(client, upload.vectorStoreId);
  console.log(JSON.stringify({ stores, upload, subscriptions, search, warnings }));
} finally {
  close();
  await client.clearStore();
  client.stop();
}

/** Every store, a page at a time with fetchMore; relayStylePagination keeps them as one list. */
async function pageThroughStores(client: ApolloClient) {
  const query = client.watchQuery({ query: STORES_PAGE, variables: { first: PAGE_SIZE } });
  let current = await firstValueFrom(query.pipe(filter((result) => result.dataState === 'complete')));
  let pages = 1;
  const fetched: string[] = current.data.vectorStores!.edges.map((edge) => edge.node.id);
  while (current.data.vectorStores?.pageInfo.hasNextPage) {
    const more = await query.fetchMore({
      variables: { after: current.data.vectorStores.pageInfo.endCursor },
    });
    fetched.push(...more.data!.vectorStores!.edges.map((edge) => edge.node.id));
    pages++;
    const merged = query.getCurrentResult();
    assert.equal(merged.dataState, 'complete');
    current = merged as typeof current;
  }
  const list: StoresPageData['vectorStores'] = current.data.vectorStores;
  const ids = list!.edges.map((edge) => edge.node.id);
  assert.deepEqual(ids, fetched, 'the cached list holds every page, in order');
  assert.equal(new Set(ids).size, ids.length, 'no store twice');

  // Normalised by id: each store is cached once, and the list refers to it.
  const cache = client.cache.extract() as Record<string, Record<string, unknown>>;
  const cachedStores = Object.keys(cache).filter((key) => key.startsWith('VectorStore:'));
  assert.equal(cachedStores.length, ids.length);
  let renamed: string | null = null;
  if (ids.length > 0) {
    // A rename answers the store by id: the list, never fetched again, shows the new name.
    const first = ids[0]!;
    renamed = `renamed ${Date.now()}`;
    const { data } = await client.mutate({ mutation: RENAME_STORE, variables: { id: first, name: renamed } });
    assert.equal(data?.updateVectorStore.__typename, 'UpdateVectorStorePayload');
    const cached = client.readQuery({ query: STORES_PAGE, variables: { first: PAGE_SIZE } });
    assert.equal(cached?.vectorStores?.edges[0]?.node.name, renamed);
    assert.equal(cached?.vectorStores?.edges.length, ids.length);
  }
  query.stopPolling();
  return { pages, count: ids.length, unique: new Set(ids).size, cachedStores: cachedStores.length, renamed };
}

/** A new store, two files uploaded to it as `File` objects, and an upload the gateway refuses. */
async function uploadTwoFiles(client: ApolloClient) {
  const created = await client.mutate({ mutation: CREATE_STORE, variables: { name: 'Apollo recipe' } });
  const store = created.data?.createVectorStore;
  assert.equal(store?.__typename, 'CreateVectorStorePayload');
  const vectorStoreId = store.vectorStore!.id;

  const files = [
    new File(['Refunds are granted within 30 days of purchase.'], 'refunds.txt', { type: 'text/plain' }),
    new File(['# Shipping\n\nOrders ship within two business days.'], 'shipping.md', {
      type: 'text/markdown',
    }),
  ];
  const { data } = await client.mutate({
    mutation: UPLOAD_FILES,
    variables: { input: { vectorStoreId, files, sizes: files.map((file) => file.size) } },
  });
  const result = data!.uploadFiles;
  if (result.__typename !== 'UploadFilesPayload') throw new Error(`upload refused: ${result.message}`);
  assert.deepEqual(result.failures, []);
  assert.deepEqual(
    result.files?.map((file) => file.file?.filename),
    files.map((file) => file.name),
  );

  // The expected failures are data too: a store that does not exist is a NotFoundError.
  const refused = await client.mutate({
    mutation: UPLOAD_FILES,
    variables: {
      input: { vectorStoreId: 'vs_DoesNotExist0', files: [new Blob(['x'], { type: 'text/plain' })] },
    },
  });
  const error = refused.data!.uploadFiles;
  assert.ok(error.__typename !== 'UploadFilesPayload', 'an unknown store is refused');

  // Read again with fewer counts than the upload answered: merged into the store's cached counts
  // (the FileCounts policy), where replacing them would lose fields and make Apollo warn.
  await client.query({ query: STORE, variables: { id: vectorStoreId }, fetchPolicy: 'network-only' });
  const cached = client.cache.extract() as Record<string, { fileCounts?: object }>;
  const counts = cached[client.cache.identify({ __typename: 'VectorStore', id: vectorStoreId })!]?.fileCounts;
  assert.deepEqual(Object.keys(counts ?? {}).sort(), [
    '__typename',
    'cancelled',
    'completed',
    'failed',
    'inProgress',
    'total',
  ]);

  return {
    typename: result.__typename,
    vectorStoreId,
    batchId: result.fileBatch!.id,
    files: result.files!.map((file) => ({ filename: file.file?.filename, bytes: file.file?.bytes })),
    refused: { typename: error.__typename, message: error.message },
  };
}

/** Statuses pushed for a batch over one transport, until the gateway completes the stream. */
async function watchBatch(transport: 'websocket' | 'sse', id: string): Promise<string[]> {
  const watcher = createGatewayClient({ ...options, subscriptions: transport });
  try {
    const statuses: string[] = [];
    await new Promise<void>((resolve, reject) => {
      watcher.client.subscribe({ query: WATCH_BATCH, variables: { id } }).subscribe({
        next(result) {
          if (result.error) return reject(result.error);
          const batch: WatchBatchData['fileBatch'] = result.data!.fileBatch;
          statuses.push(`${batch.status} ${batch.fileCounts.completed}/${batch.fileCounts.total}`);
        },
        error: reject,
        complete: resolve,
      });
    });
    assert.match(statuses.at(-1) ?? '', /^COMPLETED 2\/2$/);
    return statuses;
  } finally {
    watcher.close();
  }
}

/**
 * A query whose search is deferred, watched as a component would render it: Apollo first gives
 * the store without the search (`dataState` "streaming"), then the whole answer ("complete").
 */
async function searchDeferred(client: ApolloClient, id: string) {
  const started = performance.now();
  const renders: Array<{ at: number; dataState: string; name: string | null; search: string[] | null }> = [];
  await new Promise<void>((resolve, reject) => {
    const subscription = client
      .watchQuery({
        query: STORE_SEARCH,
        variables: { id, query: process.env.SEARCH_QUERY ?? 'refunds' },
        fetchPolicy: 'network-only',
      })
      .subscribe({
        next(result) {
          if (result.error) return reject(result.error);
          if (result.dataState !== 'streaming' && result.dataState !== 'complete') return;
          const store = result.data.vectorStore;
          renders.push({
            at: Math.round(performance.now() - started),
            dataState: result.dataState,
            name: store?.name ?? null,
            search: store?.search?.map((hit) => hit.filename) ?? null,
          });
          if (result.dataState === 'complete') {
            subscription.unsubscribe();
            resolve();
          }
        },
        error: reject,
      });
  });
  return renders;
}
