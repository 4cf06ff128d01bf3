/**
 * Fixed objects for the official SDKs' generated tests, which call hard-coded ids against a mock
 * server (openai-node v6.49.0 tests/api-resources/uploads/uploads.test.ts and parts.test.ts use
 * `upload_abc123`). Those tests run in parallel workers and cancel, complete and add parts to the
 * same id with placeholder values (`part_ids: ['string']`, `md5: 'md5'`), so a fixture is never
 * consumed: it takes parts like any upload, but cancel and complete answer without changing it,
 * complete skips the part, size and md5 checks, and it does not expire.
 */
import type { EmulatorState } from './state.ts';

export const SDK_FIXTURE_IDS = { upload: 'upload_abc123' } as const;

export function seedSdkFixtures(state: EmulatorState): void {
  state.createUpload({
    id: SDK_FIXTURE_IDS.upload,
    filename: 'README.md',
    purpose: 'assistants',
    bytes: 0,
    mimeType: 'text/markdown',
    fileExpiresAfterSeconds: undefined,
    fixture: true,
  });
}
