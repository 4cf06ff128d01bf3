/**
 * A subscriber's queue of updates. A slow reader gets the newest state rather than a backlog:
 * an undelivered intermediate update is replaced by the next one, while the final item (the
 * terminal state or the error that ends the watch) is always delivered, after which it ends.
 *
 * Hand-written rather than an async generator: a generator suspended in an `await` cannot run
 * its cleanup when the client leaves until the next update arrives, and the next update may be
 * minutes away.
 */
export class UpdateStream<T> implements AsyncIterableIterator<T, undefined, undefined> {
  private readonly queue: T[] = [];
  /** Whether the last queued item may be replaced by a newer one. */
  private lastReplaceable = false;
  private ended = false;
  private waiting: ((result: IteratorResult<T, undefined>) => void) | undefined;

  constructor(private readonly onEnd: () => void) {}

  /** Queues an update; a `final` one ends the stream once read. Ignored once the stream has ended. */
  push(item: T, final: boolean): void {
    if (this.ended) return;
    const resolve = this.waiting;
    this.waiting = undefined;
    if (resolve) {
      resolve({ value: item, done: false });
    } else {
      if (this.lastReplaceable) this.queue.pop();
      this.queue.push(item);
      this.lastReplaceable = !final;
    }
    if (final) this.end();
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const item = this.queue.shift();
    if (this.queue.length === 0) this.lastReplaceable = false;
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** The reader left: nothing more is delivered. */
  return(): Promise<IteratorResult<T, undefined>> {
    this.queue.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.({ value: undefined, done: true });
    this.onEnd();
  }
}
