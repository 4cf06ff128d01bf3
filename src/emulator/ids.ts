import { randomBytes } from 'node:crypto';

// Shapes seen on the wire (openai/openai-dotnet tests/SessionRecords). Clients must treat them as opaque, but matching the
// real formats catches code that accidentally depends on a length or alphabet.
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export const ID_PREFIX = {
  file: 'file-',
  vectorStore: 'vs_',
  fileBatch: 'vsfb_',
  upload: 'upload_',
  uploadPart: 'part_',
} as const;

function hex32(): string {
  return randomBytes(16).toString('hex');
}

function base58(length: number): string {
  // Rejection sampling keeps the alphabet uniform: 58 does not divide 256.
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 232 && out.length < length) out += BASE58[byte % 58];
    }
  }
  return out;
}

export const newFileId = (): string => `${ID_PREFIX.file}${base58(22)}`;
export const newVectorStoreId = (): string => `${ID_PREFIX.vectorStore}${hex32()}`;
export const newFileBatchId = (): string => `${ID_PREFIX.fileBatch}${hex32()}`;
// openai-dotnet UploadsTests: `upload_68cb29f531508191b7f41084c8259cd3`, `part_68cb2ab53be881918156a0ace62994b2`.
export const newUploadId = (): string => `${ID_PREFIX.upload}${hex32()}`;
export const newUploadPartId = (): string => `${ID_PREFIX.uploadPart}${hex32()}`;
export const newRequestId = (): string => `req_${hex32()}`;
