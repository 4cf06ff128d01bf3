/**
 * Runs the compiled Relay documents against a gateway and checks what they do; prints one JSON
 * summary as its last line. `npm start` here against `npm start` of the gateway, or the gateway's
 * test/examples tests.
 *
 *   GATEWAY_URL          the gateway's /graphql (default http://127.0.0.1:4000/graphql)
 *   GATEWAY_TOKEN        a gateway token, when it has tokens
 *   GATEWAY_CREDENTIAL   a named credential
 *   WATCH_STORE          a store to watch until none of its files is in progress (optional)
 *   PERSISTED=1          send documents' ids, for a gateway with TRUSTED_DOCUMENTS=persisted-queries.json
 */
import assert from 'node:assert/strict';
import {
  commitMutation,
  createOperationDescriptor,
  type Environment,
  fetchQuery,
  getSingularSelector,
  requestSubscription,
} from 'relay-runtime';
import renameStoreMutation, {
  type RenameStoreMutation,
} from './__generated__/RenameStoreMutation.graphql.ts';
import storeListQuery, { type StoreListQuery } from './__generated__/StoreListQuery.graphql.ts';
import storeRowFragment, { type StoreRow_store$data } from './__generated__/StoreRow_store.graphql.ts';
import watchStoreSubscription, {
  type WatchStoreSubscription,
} from './__generated__/WatchStoreSubscription.graphql.ts';
import { createGatewayEnvironment } from './environment.ts';

const PAGE_SIZE = 10;

const { environment, close } = createGatewayEnvironment({
  url: process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql',
  ...(process.env.GATEWAY_TOKEN ? { token: process.env.GATEWAY_TOKEN } : {}),
  ...(process.env.GATEWAY_CREDENTIAL ? { credential: process.env.GATEWAY_CREDENTIAL } : {}),
  persisted: process.env.PERSISTED === '1',
});
try {
  // The watch runs while the pages are read, as it would beside a list on screen.
  const [stores, watched] = await Promise.all([
    pageThroughStores(environment),
    process.env.WATCH_STORE ? watchStore(environment, process.env.WATCH_STORE) : null,
  ]);
  console.log(JSON.stringify({ stores, watched }));
} finally {
  close();
}

/** Every page fetched with `after`; the connection in the store accumulates them. */
async function pageThroughStores(environment: Environment) {
  // Retained, so the store keeps the list while later pages are fetched and read.
  const first = createOperationDescriptor(storeListQuery, { first: PAGE_SIZE });
  const retained = environment.retain(first);
  let page = await fetchQuery<StoreListQuery>(environment, storeListQuery, { first: PAGE_SIZE }).toPromise();
  let pages = 1;
  while (page?.vectorStores?.pageInfo.hasNextPage) {
    const after = page.vectorStores.pageInfo.endCursor;
    page = await fetchQuery<StoreListQuery>(environment, storeListQuery, {
      first: PAGE_SIZE,
      after,
    }).toPromise();
    pages++;
  }

  // The first page's selector now reads every page: the connection is keyed without `after`.
  const snapshot = environment.lookup(first.fragment);
  const list = (snapshot.data as StoreListQuery['response']).vectorStores!;
  const rows = list.edges.map(
    (edge) =>
      environment.lookup(getSingularSelector(storeRowFragment, edge.node)).data as StoreRow_store$data,
  );
  assert.equal(new Set(rows.map((row) => row.id)).size, rows.length, 'no store twice');
  // Normalised by id: one record per store, whichever page brought it.
  const source = environment.getStore().getSource();
  const records = source.getRecordIDs().filter((id) => source.get(id)?.__typename === 'VectorStore');
  assert.deepEqual(records.sort(), rows.map((row) => row.id).sort());

  let renamed: string | null = null;
  if (rows.length > 0) {
    // The payload's store, by id, is the record the list points to: the row shows the new name.
    renamed = `renamed ${Date.now()}`;
    await new Promise<void>((resolve, reject) =>
      commitMutation<RenameStoreMutation>(environment, {
        mutation: renameStoreMutation,
        variables: { id: rows[0]!.id, name: renamed! },
        onCompleted: () => resolve(),
        onError: reject,
      }),
    );
    const row = environment.lookup(getSingularSelector(storeRowFragment, list.edges[0]!.node))
      .data as StoreRow_store$data;
    assert.equal(row.name, renamed);
  }
  retained.dispose();
  return {
    pages,
    count: rows.length,
    unique: new Set(rows.map((row) => row.id)).size,
    records: records.length,
    renamed,
  };
}

/** Store-wide counts pushed over SSE until the gateway ends the stream. */
async function watchStore(environment: Environment, id: string): Promise<string[]> {
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    requestSubscription<WatchStoreSubscription>(environment, {
      subscription: watchStoreSubscription,
      variables: { id },
      onNext: (response) => {
        const store = response!.vectorStore;
        seen.push(`${store.status} ${store.fileCounts.completed}/${store.fileCounts.total}`);
      },
      onError: reject,
      onCompleted: resolve,
    });
  });
  return seen;
}
