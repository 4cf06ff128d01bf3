/**
 * HTTP without sockets, for the unit tier: a `fetch` that hands each request to a Node request
 * listener in the same process (light-my-request builds the IncomingMessage and ServerResponse).
 * The real `openai` SDK takes it as its `fetch` option, so unit tests drive the emulator through
 * the same client code as production, minus the network.
 */
import type { RequestListener } from 'node:http';
import { inject } from 'light-my-request';

/** A base URL no socket can reach: a request that escapes the in-process fetch fails loudly. */
export const IN_PROCESS_ORIGIN = 'http://in-process.invalid';

export function inProcessFetch(listener: RequestListener): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    request.signal.throwIfAborted();
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const answer = inject(listener, {
      method: request.method,
      url: `${url.pathname}${url.search}`,
      headers: Object.fromEntries(request.headers),
      ...(body ? { payload: body } : {}),
    });
    const response = await raceAbort(answer, request.signal);
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, String(item));
    }
    const empty = response.statusCode === 204 || response.statusCode === 304 || request.method === 'HEAD';
    return new Response(empty ? null : new Uint8Array(response.rawPayload), {
      status: response.statusCode,
      headers,
    });
  };
}

function raceAbort<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
