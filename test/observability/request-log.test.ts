import { describe, expect, it } from 'vitest';
import { requestIdFrom } from '../../src/observability/request-log.ts';

describe('requestIdFrom', () => {
  it("keeps a sane caller's id and replaces anything else", () => {
    expect(requestIdFrom('abc-123:x.y_z')).toBe('abc-123:x.y_z');
    for (const bad of ['has space', 'x'.repeat(129), '', null, undefined, ['a', 'b'], 'new\nline']) {
      expect(requestIdFrom(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
