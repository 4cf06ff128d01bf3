import type { Readable } from 'node:stream';
import type OpenAI from 'openai';
import { APIUserAbortError } from 'openai';
import type { UpstreamPolicy } from './client.ts';
import { toUpstreamError, type UpstreamError } from './errors.ts';
import { type UploadTarget, uploadFileStream } from './file-upload.ts';
import { UploadSource } from './upload-source.ts';

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
  /** OpenAI's `x-request-id` of the list call. */
  requestId?: string | null;
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
  /** OpenAI's `x-request-id`, for support; null when no answer came. */
  upstreamRequestId: string | null;
}

type CallOptions = OpenAI.RequestOptions;

/** A file of the client's multipart request, on its way to `POST /files`. */
export interface IncomingFile {
  /** The part's stream as graphql-upload-minimal hands it over (a busboy file stream). */
  stream: Readable;
  filename: string;
  mimetype?: string | undefined;
}

/** How a call relates to the client's request. */
interface CallMode {
  /** The client going away cancels it (cleanup after a failure must outlive the client). */
  cancellable: boolean;
  /** The per-call deadline applies (an upload lasts as long as the client takes to send it). */
  deadline: boolean;
}

const DEFAULT_MODE: CallMode = { cancellable: true, deadline: true };

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
  search(
    vectorStoreId: string,
    body: OpenAI.VectorStores.VectorStoreSearchParams,
  ): Promise<Page<SearchResult>> {
    return this.read('vectorStores.search', (options) =>
      this.page(this.client.vectorStores.search(vectorStoreId, body, options)),
    );
  }

  createVectorStore(body: OpenAI.VectorStores.VectorStoreCreateParams): Promise<VectorStore> {
    return this.write('vectorStores.create', (options) => this.client.vectorStores.create(body, options));
  }

  updateVectorStore(
    vectorStoreId: string,
    body: OpenAI.VectorStores.VectorStoreUpdateParams,
  ): Promise<VectorStore> {
    return this.write('vectorStores.update', (options) =>
      this.client.vectorStores.update(vectorStoreId, body, options),
    );
  }

  async deleteVectorStore(vectorStoreId: string): Promise<void> {
    await this.write('vectorStores.delete', (options) =>
      this.client.vectorStores.delete(vectorStoreId, options),
    );
  }

  createFileBatch(
    vectorStoreId: string,
    body: OpenAI.VectorStores.FileBatchCreateParams,
  ): Promise<FileBatch> {
    return this.write('vectorStores.fileBatches.create', (options) =>
      this.client.vectorStores.fileBatches.create(vectorStoreId, body, options),
    );
  }

  cancelFileBatch(vectorStoreId: string, batchId: string): Promise<FileBatch> {
    return this.write('vectorStores.fileBatches.cancel', (options) =>
      this.client.vectorStores.fileBatches.cancel(batchId, { vector_store_id: vectorStoreId }, options),
    );
  }

  updateVectorStoreFile(
    vectorStoreId: string,
    fileId: string,
    attributes: NonNullable<OpenAI.VectorStores.FileUpdateParams['attributes']>,
  ): Promise<VectorStoreFile> {
    return this.write('vectorStores.files.update', (options) =>
      this.client.vectorStores.files.update(fileId, { vector_store_id: vectorStoreId, attributes }, options),
    );
  }

  /** Detaches only: the File itself stays. */
  async detachFile(vectorStoreId: string, fileId: string): Promise<void> {
    await this.write('vectorStores.files.delete', (options) =>
      this.client.vectorStores.files.delete(fileId, { vector_store_id: vectorStoreId }, options),
    );
  }

  /**
   * Deletes a File (which also takes it out of every store). `outlivesRequest` is for cleanup of
   * what this request created: it must happen even when the failure was the client going away.
   */
  async deleteFile(fileId: string, options: { outlivesRequest?: boolean } = {}): Promise<void> {
    await this.write('files.delete', (callOptions) => this.client.files.delete(fileId, callOptions), {
      cancellable: !options.outlivesRequest,
      deadline: true,
    });
  }

  /**
   * Streams one file of the client's request to `POST /files` (purpose `assistants`), never
   * holding it whole (see file-upload.ts for why not through the SDK). A client that goes away
   * cancels the upload only while its file is still arriving: once every byte is in, the upload
   * is let finish, so the File it creates is known and the caller can remove it, rather than a
   * cancelled request that upstream may still have stored. The per-call deadline does not apply,
   * since the client sets the pace; upstream stalls are caught by undici's idle timeouts.
   */
  uploadFile(file: IncomingFile, options: { maxBytes: number }): Promise<FileObject> {
    const source = new UploadSource(file.stream);
    return this.write(
      'files.create',
      async () => {
        const cancel = new AbortController();
        const onAbort = () => {
          if (!source.complete) cancel.abort(this.requestSignal?.reason);
        };
        if (this.requestSignal?.aborted) onAbort();
        this.requestSignal?.addEventListener('abort', onAbort, { once: true });
        try {
          return await uploadFileStream(
            uploadTarget(this.client),
            { stream: source.stream, filename: file.filename, mimetype: file.mimetype },
            {
              purpose: 'assistants',
              maxBytes: options.maxBytes,
              signal: cancel.signal,
              timeoutMs: this.policy.callTimeoutMs,
            },
          );
        } finally {
          this.requestSignal?.removeEventListener('abort', onAbort);
        }
      },
      { cancellable: false, deadline: false },
    );
  }

  /** Whether the client's request was cancelled (it went away, or its deadline passed). */
  get cancelled(): boolean {
    return this.requestSignal?.aborted ?? false;
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

  private async page<T>(pending: {
    withResponse(): Promise<{ data: { data: T[]; has_more?: boolean }; request_id: string | null }>;
  }): Promise<Page<T>> {
    // Pages, unlike objects, do not carry OpenAI's request id; the raw response does.
    const { data: page, request_id } = await pending.withResponse();
    return { data: page.data, hasMore: page.has_more ?? false, requestId: request_id };
  }

  private read<T>(operation: string, call: (options: CallOptions) => Promise<T>): Promise<T> {
    return this.run(operation, this.policy.readRetries, call);
  }

  /** Writes go out once: the SDK sends no idempotency key, so a retried create is a duplicate. */
  protected write<T>(
    operation: string,
    call: (options: CallOptions) => Promise<T>,
    mode: CallMode = DEFAULT_MODE,
  ): Promise<T> {
    return this.run(operation, 0, call, mode);
  }

  private async run<T>(
    operation: string,
    maxRetries: number,
    call: (options: CallOptions) => Promise<T>,
    mode: CallMode = DEFAULT_MODE,
  ): Promise<T> {
    const deadline = mode.deadline ? AbortSignal.timeout(this.policy.callTimeoutMs) : undefined;
    const signals = [mode.cancellable ? this.requestSignal : undefined, deadline].filter(
      (candidate): candidate is AbortSignal => candidate !== undefined,
    );
    const link = linkSignals(signals);
    const signal = link?.signal;
    const started = performance.now();
    this.inFlight++;
    try {
      const result = await untilAborted(call({ signal, maxRetries }), signal);
      this.onCall?.({
        operation,
        outcome: 'ok',
        durationMs: performance.now() - started,
        upstreamRequestId: requestIdOf(result),
      });
      return result;
    } catch (error) {
      const failure = toUpstreamError(error, deadline, this.requestSignal);
      this.onCall?.({
        operation,
        outcome: failure.code,
        durationMs: performance.now() - started,
        upstreamRequestId: failure.requestId,
      });
      throw failure;
    } finally {
      link?.release();
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

/**
 * Settles with the call, or rejects as soon as its signal aborts. The SDK sleeps between retries
 * without watching the signal (openai 6.49 checks it only before the next attempt), so a deadline
 * or a client that went away during a Retry-After or backoff wait would otherwise be noticed only
 * once the wait is over: a 500 ms deadline ended after a 2 s Retry-After. The call left behind
 * sends nothing more (the signal is checked before every attempt) and its late failure is dropped.
 */
function untilAborted<T>(pending: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return pending;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new APIUserAbortError());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * A signal that aborts with the first of `sources` to abort, like `AbortSignal.any`, for the SDK,
 * which adds an abort listener to the signal it is given and never removes it. On Node 20 a
 * signal from `AbortSignal.any` or `AbortSignal.timeout` that has an abort listener is held by
 * Node itself until that listener is removed (a timeout's, until it fires): with `AbortSignal.any`
 * here, every upstream call leaked its signal and the SDK's AbortController with what they hold
 * (about 2.7 KB a call, without bound; see BENCHMARKS.md, soak). A plain controller's signal has no
 * such hold, and `release` takes this link's own listeners off the sources when the call is over.
 */
function linkSignals(sources: readonly AbortSignal[]): { signal: AbortSignal; release(): void } | undefined {
  if (sources.length === 0) return undefined;
  const controller = new AbortController();
  const aborted = sources.find((source) => source.aborted);
  if (aborted) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, release() {} };
  }
  const onAbort = (event: Event) => controller.abort((event.target as AbortSignal).reason);
  for (const source of sources) source.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    release() {
      for (const source of sources) source.removeEventListener('abort', onAbort);
    },
  };
}

/** OpenAI's request id of a result: the SDK hides it on objects, `page()` keeps it on pages. */
function requestIdOf(result: unknown): string | null {
  if (typeof result !== 'object' || result === null) return null;
  const id = '_request_id' in result ? result._request_id : 'requestId' in result ? result.requestId : null;
  return typeof id === 'string' ? id : null;
}

/** The SDK client's own credential, for the one call that does not go through the SDK. */
function uploadTarget(client: OpenAI): UploadTarget {
  // Only a key given as a function (never done here) leaves it null.
  if (client.apiKey === null) throw new Error('Uploads need a client created with a fixed API key.');
  return {
    baseURL: client.baseURL,
    apiKey: client.apiKey,
    organization: client.organization,
    project: client.project,
  };
}

function pageQuery(page: PageParams) {
  return { limit: page.limit, order: page.order, after: page.after, before: page.before };
}
