import { getMaxListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { linkSignals } from '../src/signals.ts';

describe('linked signals', () => {
  it("still raise the listener limit of Node's own signals after one Node refused", () => {
    // Like whatwg-node's request signal (@whatwg-node/server 0.10 on Node 20): a signal Node's
    // getMaxListeners refuses, here on every Node version, since it is no EventTarget of Node's.
    class ForeignSignal {
      aborted = false;
      reason: unknown = undefined;
      addEventListener() {}
      removeEventListener() {}
    }
    const foreign = new ForeignSignal() as unknown as AbortSignal;
    expect(() => getMaxListeners(foreign)).toThrow();
    linkSignals([foreign]).release();

    const own = new AbortController().signal;
    const links = Array.from({ length: 20 }, () => linkSignals([own]));
    expect(getMaxListeners(own)).toBeGreaterThanOrEqual(links.length);
    for (const link of links) link.release();
  });

  it('abort with the first source to abort, with its reason', () => {
    const first = new AbortController();
    const second = new AbortController();
    const link = linkSignals([first.signal, undefined, second.signal]);
    second.abort(new Error('second'));
    first.abort(new Error('first'));
    expect(link.signal.reason).toEqual(new Error('second'));
    link.release();
  });

  describe('with a deadline', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('abort with a TimeoutError once it passes, and say so', () => {
      vi.useFakeTimers();
      const source = new AbortController();
      const link = linkSignals([source.signal], 1000);
      vi.advanceTimersByTime(999);
      expect(link.signal.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(link.signal.reason).toMatchObject({ name: 'TimeoutError' });
      expect(link.timedOut).toBe(true);
      link.release();
    });

    it('are not timed out when a source aborted first, and hold no timer once released', () => {
      vi.useFakeTimers();
      const source = new AbortController();
      const cancelled = linkSignals([source.signal], 1000);
      source.abort(new Error('client went away'));
      vi.advanceTimersByTime(1000);
      expect(cancelled.timedOut).toBe(false);
      expect(cancelled.signal.reason).toEqual(new Error('client went away'));
      cancelled.release();

      const done = linkSignals([], 1000);
      done.release();
      expect(vi.getTimerCount()).toBe(0);
      expect(done.signal.aborted).toBe(false);
    });
  });
});
