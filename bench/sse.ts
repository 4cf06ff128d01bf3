/**
 * A GraphQL over SSE client for the subscriptions scenario ("distinct connections" mode, one POST
 * per subscription, as test/support/sse.ts), reduced to what the bench counts: when the response
 * headers came, the first `next` payload, whether the stream is still open, and a way to close it.
 * Every promise settles (none rejects), so hundreds of streams can be awaited together.
 */

export interface FirstEvent {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

export interface SseStream {
  /** The response headers: HTTP status and content type, or why there are none. */
  opened: Promise<{ status: number; contentType: string } | { failure: string }>;
  /** The first `next` payload, or why the stream ended without one. */
  first: Promise<{ event: FirstEvent; afterMs: number } | { failure: string }>;
  /** True once the stream has ended, by the server, the network or `close()`. */
  readonly ended: boolean;
  /** Events received so far (`next` and `complete`; keep-alive comments are not events). */
  readonly events: number;
  /** Disconnects, as a client that goes away. */
  close(): void;
}

export function openSse(url: string, query: string, variables: Record<string, unknown>): SseStream {
  const controller = new AbortController();
  const started = performance.now();
  let ended = false;
  let events = 0;
  let settleOpened!: (value: Awaited<SseStream['opened']>) => void;
  let settleFirst!: (value: Awaited<SseStream['first']>) => void;
  const opened = new Promise<Awaited<SseStream['opened']>>((resolve) => {
    settleOpened = resolve;
  });
  const first = new Promise<Awaited<SseStream['first']>>((resolve) => {
    settleFirst = resolve;
  });
  const why = (error: unknown) =>
    controller.signal.aborted
      ? 'closed by the client'
      : error instanceof Error
        ? error.message
        : String(error);

  void (async () => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query, variables }),
        signal: controller.signal,
      });
      const contentType = response.headers.get('content-type') ?? '';
      settleOpened({ status: response.status, contentType });
      if (!response.body || !contentType.startsWith('text/event-stream')) {
        const text = await response.text();
        settleFirst({ failure: `not an event stream (HTTP ${response.status}): ${text.slice(0, 300)}` });
        return;
      }
      const decoder = new TextDecoder();
      const reader = response.body.getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
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
            const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') event = text;
            if (field === 'data') data.push(text);
          }
          if (!event && data.length === 0) continue;
          events++;
          if (event === 'next') {
            settleFirst({
              event: JSON.parse(data.join('\n')) as FirstEvent,
              afterMs: performance.now() - started,
            });
          }
        }
      }
      settleFirst({ failure: 'the stream ended before its first event' });
    } catch (error) {
      settleOpened({ failure: why(error) });
      settleFirst({ failure: why(error) });
    } finally {
      ended = true;
    }
  })();

  return {
    opened,
    first,
    get ended() {
      return ended;
    },
    get events() {
      return events;
    },
    close: () => controller.abort(),
  };
}
