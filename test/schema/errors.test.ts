import { describe, expect, it } from 'vitest';
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
