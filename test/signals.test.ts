import * as events from 'node:events';
import { getMaxListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { linkSignals } from '../src/signals.ts';

describe('linked signals', () => {
  it("still raise the listener limit of Node's own signals after one Node refused", () => {
    // Like whatwg-node's request signal (@whatwg-node/server 0.10): an EventTarget whose listener
    // limit is 0 (none), which Node's getMaxListeners refuses, behind a Proxy that claims
    // AbortSignal.prototype.
    const target = new (class ForeignSignal extends EventTarget {})();
    const limitKey = (events as unknown as Record<string, symbol>).kMaxEventTargetListeners;
    if (limitKey) (target as unknown as Record<symbol, number>)[limitKey] = 0;
    const foreign = new Proxy(target, {
      getPrototypeOf: () => AbortSignal.prototype,
    }) as unknown as AbortSignal;
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
});
