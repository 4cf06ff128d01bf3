import type { UploadLimits } from './app.ts';
import type { Loaders } from './schema/loaders.ts';
import type { Upstream } from './upstream/index.ts';

/** Built fresh for every request and read-only after: one credential, one set of loaders. */
export interface Context {
  requestId: string;
  upstream: Upstream;
  loaders: Loaders;
  uploadLimits: UploadLimits;
}
