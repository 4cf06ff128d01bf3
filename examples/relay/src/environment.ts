import { createClient } from 'graphql-sse';
import {
  Environment,
  type FetchFunction,
  Network,
  Observable,
  RecordSource,
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
}

/**
 * A Relay Environment for the gateway: queries and mutations as JSON POSTs, subscriptions over
 * GraphQL over SSE (graphql-sse, one stream each). The artifacts carry both the document's text
 * and its persisted id (persisted-queries.json): this sends the text, which any gateway takes.
 */
export function createGatewayEnvironment(options: GatewayEnvironmentOptions): {
  environment: Environment;
  close(): void;
} {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.credential) headers['x-openai-credential'] = options.credential;

  const fetchFn: FetchFunction = async (params, variables) => {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
      },
      body: JSON.stringify({ query: params.text, variables, operationName: params.name }),
    });
    return response.json();
  };

  const sse = createClient({ url: options.url, headers, singleConnection: false });
  const subscribeFn: SubscribeFunction = (params, variables) =>
    Observable.create((sink) =>
      sse.subscribe(
        { query: params.text ?? '', variables, operationName: params.name },
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
