/** The only place that calls OpenAI: clients per credential, the Upstream door, error mapping. */

export { UpstreamBudget } from './budget.ts';
export {
  createUpstreamClient,
  createUpstreamClients,
  defaultUpstreamPolicy,
  type UpstreamClient,
  type UpstreamClients,
  type UpstreamCredential,
  type UpstreamPolicy,
} from './client.ts';
export { UploadSizeMismatch, UpstreamError, type UpstreamErrorCode } from './errors.ts';
export { type FilePurpose, type FileToUpload, sentFilename } from './file-upload.ts';
export type { Leftover, LeftoverLog, LeftoverSharing, LoggedLeftover } from './leftovers.ts';
export { OPENAI_LIMITS } from './openai-limits.ts';
export {
  type CredentialPacing,
  localPacing,
  type PacedCredential,
  type PacingSource,
  STORE_WRITES_WINDOW_SECONDS,
  sharedCredentialId,
  waitUntil,
} from './pacing.ts';
export { PART_BYTES, partedUploadCalls } from './parted-upload.ts';
export { noReadCache, type ReadCache } from './read-cache.ts';
export * from './types.ts';
export { Upstream, type UpstreamCall, type UpstreamScope } from './upstream.ts';
