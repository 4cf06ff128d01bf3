import { getOperationAST, parse } from 'graphql';

/**
 * Whether the request runs a subscription. A subscription keeps its context for as long as it
 * streams and ends at its own deadline (its `deadlineSeconds`), so the operation deadline must not
 * cancel the upstream calls of its later events. Yoga builds the context after it has parsed and
 * validated the document (token limit included), so parsing it again here is bounded; most
 * requests never get that far.
 */
export function isSubscriptionRequest(params: { query?: string; operationName?: string }): boolean {
  if (!params.query?.includes('subscription')) return false;
  try {
    return getOperationAST(parse(params.query), params.operationName)?.operation === 'subscription';
  } catch {
    return false;
  }
}
