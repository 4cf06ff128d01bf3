import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { Defer20220824Handler } from '@apollo/client/incremental';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { relayStylePagination } from '@apollo/client/utilities';
import isExtractableFile from 'apollo-upload-client/isExtractableFile.mjs';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';
import extractFiles from 'extract-files/extractFiles.mjs';
import { OperationTypeNode, print } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { Observable } from 'rxjs';
// Written by the gateway's `npm run schema:print` and held to its schema by CI; an app outside this
// repository copies it and regenerates it with the schema.
import possibleTypes from '../../../possible-types.json' with { type: 'json' };

export interface GatewayClientOptions {
  /** The gateway's GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
  /** A gateway token, when the gateway has tokens. */
  token?: string;
  /** A named credential (`x-openai-credential`); the token's or the gateway's default otherwise. */
  credential?: string;
  /** The transport of subscriptions: graphql-ws on the same path (default), or GraphQL over SSE. */
  subscriptions?: 'websocket' | 'sse';
  /** A WebSocket class where there is no global one (Node 20: the `ws` package). */
  webSocketImpl?: unknown;
}

export interface GatewayClient {
  client: ApolloClient;
  /** Closes the subscription transport's connections. */
  close(): void;
}

/**
 * GraphQL over SSE as an Apollo link. It sends the request's four fields only: Apollo 4's
 * `operation` also carries `operationType`, `client` and functions, and yoga answers 400 to a
 * parameter it does not know.
 */
class SSELink extends ApolloLink {
  constructor(private readonly sse: ReturnType<typeof createSseClient>) {
    super();
  }
  override request(operation: ApolloLink.Operation): Observable<ApolloLink.Result> {
    const { query, variables, operationName, extensions } = operation;
    return new Observable((sink) =>
      this.sse.subscribe<Record<string, unknown>, Record<string, unknown>>(
        { query: print(query), variables, ...(operationName ? { operationName } : {}), extensions },
        {
          next: (value) => sink.next(value),
          complete: () => sink.complete(),
          error: (error) => sink.error(error),
        },
      ),
    );
  }
}

export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.credential) headers['x-openai-credential'] = options.credential;

  let subscriptions: ApolloLink;
  let close: () => void;
  if (options.subscriptions === 'sse') {
    const sse = createSseClient({ url: options.url, headers, singleConnection: false });
    subscriptions = new SSELink(sse);
    close = () => sse.dispose();
  } else {
    // A browser cannot set headers on a WebSocket: the same credentials travel in connection_init.
    const ws = createWsClient({
      url: options.url.replace(/^http/, 'ws'),
      connectionParams: headers,
      ...(options.webSocketImpl ? { webSocketImpl: options.webSocketImpl } : {}),
    });
    subscriptions = new GraphQLWsLink(ws);
    close = () => void ws.dispose();
  }

  const client = new ApolloClient({
    cache: new InMemoryCache({
      // Without it, `... on MutationError` or `... on Node` match nothing read from the cache.
      possibleTypes,
      typePolicies: {
        // Pages of the same arguments but `after` are one list; `order` and `filter` start another.
        Query: { fields: { vectorStores: relayStylePagination(['order']) } },
        VectorStore: { fields: { files: relayStylePagination(['order', 'filter']) } },
        FileBatch: { fields: { files: relayStylePagination(['order', 'filter']) } },
        // Counts have no id of their own: they belong to their store or batch, so a newer
        // answer is merged into the one cached rather than replacing it with a warning.
        FileCounts: { merge: true },
      },
    }),
    // `@defer` answers arrive as multipart/mixed in the format of graphql-js 17.0.0-alpha.2, which
    // the gateway (yoga) sends; without a handler Apollo refuses a deferred query.
    incrementalHandler: new Defer20220824Handler(),
    link: ApolloLink.split(
      (operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION,
      subscriptions,
      ApolloLink.split(
        (operation) => extractFiles(operation.variables, isExtractableFile).files.size > 0,
        // Uploads are multipart requests, which the gateway's CSRF check accepts only with a
        // preflight header.
        new UploadHttpLink({ uri: options.url, headers: { ...headers, 'apollo-require-preflight': 'true' } }),
        // The rest go as plain JSON through Apollo's own link, which reads the parts of a
        // `@defer` answer as they arrive (UploadHttpLink reads an answer whole).
        new HttpLink({ uri: options.url, headers }),
      ),
    ),
  });
  return { client, close };
}
