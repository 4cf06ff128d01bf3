import { UpstreamError } from './errors.ts';

/**
 * The upstream calls one operation may still make. The query-limits plugin sets it to the
 * operation's estimate before execution; every call takes one before it goes out, and a call the
 * budget cannot pay for is not made (OVER_BUDGET), so the estimate a client was shown is a promise,
 * whatever a resolver would have done. Retries of a failed read are the policy's, not counted.
 */
export class UpstreamBudget {
  private limit = Number.POSITIVE_INFINITY;
  private spent = 0;

  /** The most calls in all; an operation that was not priced has no limit. */
  setLimit(limit: number): void {
    this.limit = limit;
  }

  get remaining(): number {
    return this.limit - this.spent;
  }

  get used(): number {
    return this.spent;
  }

  /** Takes one call, or refuses it: nothing is sent then. */
  take(operation: string): void {
    if (this.spent >= this.limit) {
      throw new UpstreamError(
        'OVER_BUDGET',
        `The operation was priced at ${this.limit} upstream calls and has made them all; ${operation} was not called.`,
      );
    }
    this.spent++;
  }
}
