import type OpenAI from 'openai';
import type { UpstreamPolicy } from './client.ts';
import { toUpstreamError, type UpstreamError } from './errors.ts';

export type { UpstreamCredential, UpstreamPolicy } from './client.ts';
export { createOpenAIClient, defaultUpstreamPolicy } from './client.ts';
export { UpstreamError, type UpstreamErrorCode } from './errors.ts';

/** The real API sends `description` and a null `name`, neither of which the SDK type admits. */
export type VectorStore = Omit<OpenAI.VectorStores.VectorStore, 'name'> & {
  name: string | null;
  description?: string | null;
};
export type VectorStoreFile = OpenAI.VectorStores.VectorStoreFile;
export type FileBatch = OpenAI.VectorStores.VectorStoreFileBatch;
export type FileObject = OpenAI.FileObject;
export type SearchResult = OpenAI.VectorStores.VectorStoreSearchResponse;
export type SortOrder = 'asc' | 'desc';
export type VectorStoreFileStatus = VectorStoreFile['status'];

/** One page of an OpenAI list, as the gateway needs it: never auto-paginated. */
export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

export interface PageParams {
  limit: number;
  order: SortOrder;
  after?: string | undefined;
  before?: string | undefined;
}

export interface UpstreamCall {
  operation: string;
  outcome: 'ok' | UpstreamError['code'];
  durationMs: number;
}

type CallOptions = OpenAI.RequestOptions;

/**
 * The gateway's only door to OpenAI. Every call carries the client's abort signal and a deadline,
 * reads are retried by the SDK and writes are not, and every failure leaves as an UpstreamError.
 */
export class Upstream {
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly client: OpenAI,
    private readonly policy: UpstreamPolicy,
    private readonly requestSignal?: AbortSignal,
    private readonly onCall?: (call: UpstreamCall) => void,
  ) {}

  listVectorStores(page: PageParams): Promise<Page<VectorStore>> {
    return this.read('vectorStores.list', (options) =>
      this.page(this.client.vectorStores.list(pageQuery(page), options)),
    );
  }

  retrieveVectorStore(vectorStoreId: string): Promise<VectorStore> {
    return this.read('vectorStores.retrieve', (options) =>
      this.client.vectorStores.retrieve(vectorStoreId, options),
    );
  }

  listVectorStoreFiles(
    vectorStoreId: string,
    page: PageParams & { filter?: VectorStoreFileStatus | undefined },
  ): Promise<Page<VectorStoreFile>> {
    return this.read('vectorStores.files.list', (options) =>
      this.page(
        this.client.vectorStores.files.list(
          vectorStoreId,
          { ...pageQuery(page), filter: page.filter },
          options,
        ),
      ),
    );
  }

  retrieveVectorStoreFile(vectorStoreId: string, fileId: string): Promise<VectorStoreFile> {
    return this.read('vectorStores.files.retrieve', (options) =>
      this.client.vectorStores.files.retrieve(fileId, { vector_store_id: vectorStoreId }, options),
    );
  }

  retrieveFileBatch(vectorStoreId: string, batchId: string): Promise<FileBatch> {
    return this.read('vectorStores.fileBatches.retrieve', (options) =>
      this.client.vectorStores.fileBatches.retrieve(batchId, { vector_store_id: vectorStoreId }, options),
    );
  }

  listFileBatchFiles(
    vectorStoreId: string,
    batchId: string,
    page: PageParams & { filter?: VectorStoreFileStatus | undefined },
  ): Promise<Page<VectorStoreFile>> {
    return this.read('vectorStores.fileBatches.listFiles', (options) =>
      this.page(
        this.client.vectorStores.fileBatches.listFiles(
          batchId,
          { vector_store_id: vectorStoreId, ...pageQuery(page), filter: page.filter },
          options,
        ),
      ),
    );
  }

  /** `/files` has no `before`; its `limit` goes up to 10,000. */
  listFiles(page: Omit<PageParams, 'before'> & { purpose?: string | undefined }): Promise<Page<FileObject>> {
    return this.read('files.list', (options) =>
      this.page(
        this.client.files.list(
          { limit: page.limit, order: page.order, after: page.after, purpose: page.purpose },
          options,
        ),
      ),
    );
  }

  retrieveFile(fileId: string): Promise<FileObject> {
    return this.read('files.retrieve', (options) => this.client.files.retrieve(fileId, options));
  }

  /** A POST, but it changes nothing upstream, so it is retried like a read. */
  search(vectorStoreId: string, body: OpenAI.VectorStores.VectorStoreSearchParams): Promise<SearchResult[]> {
    return this.read('vectorStores.search', async (options) => {
      const page = await this.client.vectorStores.search(vectorStoreId, body, options);
      return page.data;
    });
  }

  /**
   * Resolves once no call of this request is in flight (or after `maxWaitMs`). Detail loaders
   * dispatch then: the rows of sibling lists arrive one response at a time, and waiting for the
   * last one turns many small batches into one.
   */
  settled(maxWaitMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, maxWaitMs);
      const waiters = this.idleWaiters;
      function done() {
        clearTimeout(timer);
        const index = waiters.indexOf(done);
        if (index >= 0) waiters.splice(index, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  private async page<T>(pending: PromiseLike<{ data: T[]; has_more?: boolean }>): Promise<Page<T>> {
    const page = await pending;
    return { data: page.data, hasMore: page.has_more ?? false };
  }

  private read<T>(operation: string, call: (options: CallOptions) => Promise<T>): Promise<T> {
    return this.run(operation, this.policy.readRetries, call);
  }

  /** Writes go out once: the SDK sends no idempotency key, so a retried create is a duplicate. */
  protected write<T>(operation: string, call: (options: CallOptions) => Promise<T>): Promise<T> {
    return this.run(operation, 0, call);
  }

  private async run<T>(
    operation: string,
    maxRetries: number,
    call: (options: CallOptions) => Promise<T>,
  ): Promise<T> {
    const deadline = AbortSignal.timeout(this.policy.callTimeoutMs);
    const signal = this.requestSignal ? AbortSignal.any([this.requestSignal, deadline]) : deadline;
    const started = performance.now();
    this.inFlight++;
    try {
      const result = await call({ signal, maxRetries });
      this.onCall?.({ operation, outcome: 'ok', durationMs: performance.now() - started });
      return result;
    } catch (error) {
      const failure = toUpstreamError(error, deadline);
      this.onCall?.({ operation, outcome: failure.code, durationMs: performance.now() - started });
      throw failure;
    } finally {
      this.inFlight--;
      // Let the continuations of this call queue their keys before waiting loaders dispatch.
      if (this.inFlight === 0) setImmediate(() => this.wakeIdleWaiters());
    }
  }

  private wakeIdleWaiters(): void {
    if (this.inFlight > 0) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }
}

function pageQuery(page: PageParams) {
  return { limit: page.limit, order: page.order, after: page.after, before: page.before };
}
