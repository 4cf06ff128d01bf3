import type OpenAI from 'openai';
import type { UpstreamPolicy } from './client.ts';
import {
  type FileBatch,
  Upstream,
  type UpstreamCall,
  type VectorStore,
  type VectorStoreFile,
} from './index.ts';

/** One poll's answer, with the interval the upstream asked for, if it sent one. */
export interface Polled<T> {
  value: T;
  /** `openai-poll-after-ms`: the soonest OpenAI wants to be asked again; null when not sent. */
  pollAfterMs: number | null;
}

/** Longer hints are treated as this: a poller still has deadlines to keep. */
const MAX_POLL_AFTER_MS = 60_000;

/**
 * The reads a status poller makes. They need a response header the plain reads drop, so they go
 * through `.withResponse()`; they are still Upstream calls (same client, so the same per-credential
 * concurrency limit, per-call deadline, error mapping and call reporting).
 *
 * Each poll goes out once, with no SDK retries: the poller's own backoff is the retry, and SDK
 * retries on top of it would multiply the load on an upstream that is already failing.
 */
export class PollingUpstream extends Upstream {
  constructor(
    private readonly sdk: OpenAI,
    policy: UpstreamPolicy,
    signal: AbortSignal,
    onCall?: (call: UpstreamCall) => void,
  ) {
    super(sdk, policy, signal, onCall);
  }

  pollFileBatch(vectorStoreId: string, batchId: string): Promise<Polled<FileBatch>> {
    return this.once('vectorStores.fileBatches.retrieve', (options) =>
      this.sdk.vectorStores.fileBatches.retrieve(batchId, { vector_store_id: vectorStoreId }, options),
    );
  }

  pollVectorStoreFile(vectorStoreId: string, fileId: string): Promise<Polled<VectorStoreFile>> {
    return this.once('vectorStores.files.retrieve', (options) =>
      this.sdk.vectorStores.files.retrieve(fileId, { vector_store_id: vectorStoreId }, options),
    );
  }

  pollVectorStore(vectorStoreId: string): Promise<Polled<VectorStore>> {
    return this.once('vectorStores.retrieve', (options) =>
      this.sdk.vectorStores.retrieve(vectorStoreId, options),
    );
  }

  private once<T>(
    operation: string,
    call: (options: OpenAI.RequestOptions) => { withResponse(): Promise<{ data: T; response: Response }> },
  ): Promise<Polled<T>> {
    // `write` is Upstream's single-attempt path; nothing here changes anything upstream.
    return this.write(operation, async (options) => {
      const { data, response } = await call({ ...options, maxRetries: 0 }).withResponse();
      return { value: data, pollAfterMs: pollAfterMs(response.headers) };
    });
  }
}

export function pollAfterMs(headers: Headers): number | null {
  const value = Number.parseInt(headers.get('openai-poll-after-ms') ?? '', 10);
  return Number.isFinite(value) && value >= 0 ? Math.min(value, MAX_POLL_AFTER_MS) : null;
}
