import type { GraphQLResponse } from './gateway.ts';

/**
 * A GraphQL over SSE client ("distinct connections" mode), as small as the tests need: one
 * request per subscription, `next` events carrying execution results, then `complete`.
 */
export interface SseSubscription<TData> {
  /** Resolves with each result in turn, then null once the stream has completed or closed. */
  next(): Promise<GraphQLResponse<TData> | null>;
  /** Reads to the end: every result, and whether the server sent `complete`. */
  rest(): Promise<{ results: Array<GraphQLResponse<TData>>; completed: boolean }>;
  /** Disconnects, as a client that goes away. */
  close(): void;
}

export function subscribe<TData = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): SseSubscription<TData> {
  const controller = new AbortController();
  const response = fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  let completed = false;
  const events = readEvents(response);
  async function next(): Promise<GraphQLResponse<TData> | null> {
    try {
      for (;;) {
        const { value, done } = await events.next();
        if (done) return null;
        if (value.event === 'complete') {
          completed = true;
          return null;
        }
        if (value.event === 'next') return JSON.parse(value.data) as GraphQLResponse<TData>;
      }
    } catch (error) {
      if (controller.signal.aborted) return null;
      throw error;
    }
  }
  return {
    next,
    async rest() {
      const results: Array<GraphQLResponse<TData>> = [];
      for (let result = await next(); result; result = await next()) results.push(result);
      return { results, completed };
    },
    close: () => controller.abort(),
  };
}

async function* readEvents(pending: Promise<Response>): AsyncGenerator<{ event: string; data: string }> {
  const response = await pending;
  if (!response.body) throw new Error(`No body (HTTP ${response.status}).`);
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    throw new Error(`Not an event stream (HTTP ${response.status}): ${await response.text()}`);
  }
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = response.body.getReader();
  for (;;) {
    const { value: chunk, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = '';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        // Lines starting with a colon are comments: yoga's keep-alive pings.
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        if (field === 'data') data.push(value);
      }
      if (event || data.length > 0) yield { event: event || 'message', data: data.join('\n') };
    }
  }
}
