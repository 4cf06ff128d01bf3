import { describe, expect, it } from 'vitest';
import {
  decodeGlobalId,
  encodeGlobalId,
  InvalidIdError,
  parseFileBatchRef,
  parseFileId,
  parseVectorStoreFileRef,
  parseVectorStoreId,
} from '../../src/schema/ids.ts';

const STORE = 'vs_68c9eda7fd0c8191be12ef7c0d1999db';
const OTHER_STORE = 'vs_abc123';
const FILE = 'file-S44aCkVktmFaKmbgGrdgLt';
const BATCH = 'vsfb_ibj_68c9eda7fd0c8191be12ef7c0d1999db';

describe('global ids', () => {
  it('round-trip every node type, nested ones with their store', () => {
    for (const [typename, id] of [
      ['VectorStore', STORE],
      ['File', FILE],
      ['VectorStoreFile', `${STORE}:${FILE}`],
      ['FileBatch', `${STORE}:${BATCH}`],
    ] as const) {
      const globalId = encodeGlobalId(typename, id);
      expect(globalId).not.toContain(id);
      expect(decodeGlobalId(globalId)).toEqual({ typename, id });
    }
  });

  it('accept raw OpenAI ids where they say enough', () => {
    expect(parseVectorStoreId(STORE, 'id')).toBe(STORE);
    expect(parseFileId(FILE, 'id')).toBe(FILE);
    expect(parseFileId(encodeGlobalId('VectorStoreFile', `${STORE}:${FILE}`), 'id')).toBe(FILE);
    expect(parseVectorStoreFileRef(FILE, 'id', STORE)).toEqual({ vectorStoreId: STORE, fileId: FILE });
    expect(parseFileBatchRef(BATCH, 'id', STORE)).toEqual({ vectorStoreId: STORE, batchId: BATCH });
  });

  it('refuse ids of the wrong kind or of another store, naming the argument', () => {
    const attempts = [
      () => parseVectorStoreId(FILE, 'input.id'),
      () => parseFileId(STORE, 'input.fileIds.0'),
      () => parseVectorStoreFileRef(FILE, 'id'),
      () => parseVectorStoreFileRef(encodeGlobalId('VectorStoreFile', `${OTHER_STORE}:${FILE}`), 'id', STORE),
      () => parseFileBatchRef(encodeGlobalId('FileBatch', `${OTHER_STORE}:${BATCH}`), 'id', STORE),
      () => decodeGlobalId(''),
      () => decodeGlobalId('vs_'),
      () => decodeGlobalId(encodeGlobalId('VectorStoreFile', FILE)),
      () => decodeGlobalId(encodeGlobalId('VectorStore', `${STORE}:extra`)),
      () => decodeGlobalId('x'.repeat(10_000)),
    ];
    for (const attempt of attempts) expect(attempt).toThrow(InvalidIdError);
    try {
      parseVectorStoreId(FILE, 'input.id');
    } catch (error) {
      expect((error as InvalidIdError).extensions).toEqual({ code: 'INVALID_ID', argument: 'input.id' });
    }
  });
});
