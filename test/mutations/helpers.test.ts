import { describe, expect, it } from 'vitest';
import { mapConcurrent, semaphore } from '../../src/schema/concurrency.ts';
import { inputPaths, pathSegments } from '../../src/schema/errors.ts';

describe('inputPaths', () => {
  const paths = inputPaths(
    { file_ids: 'input.fileIds', expires_after: 'input.expiresAfter', vector_store_id: 'input.id' },
    (sent) => [0, 2, 5][sent] ?? null,
  );

  it('maps OpenAI parameter names to input fields, camelCasing the rest of the path', () => {
    expect(paths('expires_after.days')).toBe('input.expiresAfter.days');
    expect(paths('expires_after')).toBe('input.expiresAfter');
    expect(paths('vector_store_id')).toBe('input.id');
  });

  it('maps a position in what was sent back to the input position', () => {
    expect(paths('file_ids[1]')).toBe('input.fileIds[2]');
    expect(paths('file_ids[2]')).toBe('input.fileIds[5]');
    expect(paths('file_ids[9]')).toBeNull();
  });

  it('ignores parameters it does not know, and anything that is not a parameter path', () => {
    expect(paths('chunking_strategy')).toBeNull();
    expect(paths('Incorrect API key provided: sk-abc')).toBeNull();
    expect(paths('file_ids[1]; drop')).toBeNull();
  });

  it('splits a field into path segments', () => {
    expect(pathSegments('input.fileIds[3]')).toEqual(['input', 'fileIds', '3']);
    expect(pathSegments('input.metadata.lang')).toEqual(['input', 'metadata', 'lang']);
  });
});

describe('semaphore and mapConcurrent', () => {
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

  it('hands a released place to the longest waiter', async () => {
    const acquire = semaphore(1);
    const order: string[] = [];
    const first = await acquire();
    const second = acquire().then((release) => {
      order.push('second');
      return release;
    });
    const third = acquire().then((release) => {
      order.push('third');
      release();
    });
    first();
    (await second)();
    await third;
    expect(order).toEqual(['second', 'third']);
  });
});
