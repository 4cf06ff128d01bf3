import { describe, expect, it } from 'vitest';
import { createConcurrencyLimit, mapConcurrent } from '../src/concurrency.ts';

describe('the concurrency limit', () => {
  it('runs at most `limit` at once and answers in item order', async () => {
    let running = 0;
    let most = 0;
    const results = await mapConcurrent([30, 5, 20, 1, 10, 2], 3, async (delay, index) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, delay));
      running--;
      return index;
    });
    expect(results).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(3);
  });

  it('hands a freed slot to the longest waiter, and counts who runs and who waits', async () => {
    const limit = createConcurrencyLimit(1);
    const order: string[] = [];
    let finishFirst = () => {};
    const held = new Promise<void>((resolve) => (finishFirst = resolve));
    let markStarted = () => {};
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const first = limit.run(() => {
      markStarted();
      return held;
    });
    const second = limit.run(() => order.push('second'));
    const third = limit.run(() => order.push('third'));
    await started;
    expect({ active: limit.active, waiting: limit.waiting }).toEqual({ active: 1, waiting: 2 });
    finishFirst();
    await Promise.all([first, second, third]);
    expect(order).toEqual(['second', 'third']);
    expect({ active: limit.active, waiting: limit.waiting }).toEqual({ active: 0, waiting: 0 });
  });
});
