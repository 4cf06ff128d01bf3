import type { UploadLimits } from './app.ts';
import type { LiveSession } from './live/registry.ts';
import type { Loaders } from './schema/loaders.ts';
import type { Upstream } from './upstream/index.ts';

/** Built fresh for every request and read-only after: one credential, one set of loaders. */
export interface Context {
  requestId: string;
  upstream: Upstream;
  loaders: Loaders;
  uploadLimits: UploadLimits;
  /** Processing status watches, on pollers shared process-wide per credential and object. */
  live: LiveSession;
  credential: {
    /** The credential this request uses; null when the caller sent its own key. */
    name: string | null;
    /** The credentials this caller may use. */
    available: readonly string[];
  };
}
