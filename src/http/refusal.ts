/**
 * How the edge answers a request it refuses before GraphQL runs (a wrong path, no token, a CSRF
 * risk, a malformed upload): the GraphQL-over-HTTP error shape, with a code clients can branch on
 * and that the request log records.
 */
export interface Refusal {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

const refused = new WeakMap<Request, string>();

/** The Response class of the server adapter (whatwg-node's, which it sends fastest). */
export interface FetchAPI {
  Response: typeof Response;
}

export function refusalResponse(fetchAPI: FetchAPI, request: Request, refusal: Refusal): Response {
  refused.set(request, refusal.code);
  return new fetchAPI.Response(
    JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: refusal.code } }] }),
    { status: refusal.status, headers: { 'content-type': 'application/json', ...refusal.headers } },
  );
}

/** The code a request was refused with, if it was. */
export function refusalCodeOf(request: Request): string | undefined {
  return refused.get(request);
}
