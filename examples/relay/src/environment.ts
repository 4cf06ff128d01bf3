import { createClient, type RequestParams } from 'graphql-sse';
import {
  Environment,
  type FetchFunction,
  Network,
  Observable,
  RecordSource,
  type RequestParameters,
  Store,
  type SubscribeFunction,
} from 'relay-runtime';

export interface GatewayEnvironmentOptions {
  /** The gateway's GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
  /** A gateway token, when the gateway has tokens. */
  token?: string;
  /** A named credential (`x-openai-credential`). */
  credential?: string;
  /**
   * Send each document's persisted id (`doc_id`) instead of its text, for a gateway that runs
   * only the documents of persisted-queries.json (`TRUSTED_DOCUMENTS`).
   */
  persisted?: boolean;
}

/**
 * A Relay Environment for the gateway: queries and mutations as JSON POSTs, subscriptions over
 * GraphQL over SSE (graphql-sse, one stream each). The artifacts carry both the document's text
 * and its persisted id (persisted-queries.json): the text by default, which any gateway takes.
 */
export function createGatewayEnvironment(options: GatewayEnvironmentOptions): {
  environment: Environment;
  close(): void;
} {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.credential) headers['x-openai-credential'] = options.credential;

  const documentOf = (params: RequestParameters) =>
    options.persisted ? { doc_id: params.id } : { query: params.text ?? '' };

  const fetchFn: FetchFunction = async (params, variables) => {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
      },
      body: JSON.stringify({ ...documentOf(params), variables, operationName: params.name }),
    });
    return response.json();
  };

  const sse = createClient({ url: options.url, headers, singleConnection: false });
  const subscribeFn: SubscribeFunction = (params, variables) =>
    Observable.create((sink) =>
      sse.subscribe(
        // graphql-sse sends the request as given; its type asks for `query`, which `doc_id` replaces.
        { ...documentOf(params), variables, operationName: params.name } as RequestParams,
        {
          next: (value) => sink.next(value as Parameters<typeof sink.next>[0]),
          error: (error) => sink.error(error instanceof Error ? error : new Error(String(error))),
          complete: () => sink.complete(),
        },
      ),
    );

  const environment = new Environment({
    network: Network.create(fetchFn, subscribeFn),
    store: new Store(new RecordSource()),
  });
  return { environment, close: () => sse.dispose() };
}
