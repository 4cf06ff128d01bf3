import { createHmac } from 'node:crypto';
import type OpenAI from 'openai';
import { APIUserAbortError, toStreamingFile } from 'openai';
import { linkSignals } from '../signals.ts';
import type { UpstreamBudget } from './budget.ts';
import type { UpstreamClient, UpstreamPolicy } from './client.ts';
import { toUpstreamError, UpstreamError } from './errors.ts';
import {
  type FilePurpose,
  type FileToUpload,
  safeMimetype,
  sentFilename,
  uploadFileStream,
} from './file-upload.ts';
import { type Leftover, type LeftoverNote, LeftoverNotes } from './leftovers.ts';
import { type PartedUploadOptions, uploadInParts } from './parted-upload.ts';
import { storeWriteTurn } from './store-writes.ts';
import type {
  FileBatch,
  FileContent,
  FileDownload,
  FileObject,
  FileStatus,
  Page,
  PageParams,
  Polled,
  SearchResult,
  VectorStore,
  VectorStoreFile,
} from './types.ts';

export interface UpstreamCall {
  operation: string;
  outcome: 'ok' | UpstreamError['code'];
  durationMs: number;
  /** OpenAI's `x-request-id`, for support; null when no answer came. */
  upstreamRequestId: string | null;
}

/** Whose calls these are: a request (or a status poller) and how its calls are reported. */
export interface UpstreamScope {
  /** Aborts the scope's calls: the client went away, or the operation's deadline passed. */
  signal?: AbortSignal | undefined;
  onCall?: ((call: UpstreamCall) => void) | undefined;
  /** The calls the scope may still make; none given, no limit. */
  budget?: UpstreamBudget | undefined;
}

type CallOptions = OpenAI.RequestOptions;

interface Attempts {
  /** SDK retries after the first attempt. */
  retries: number;
  /** The scope's signal cancels the call (cleanup of what a failed request created must not). */
  cancellable: boolean;
  /** The per-call deadline applies (an upload lasts as long as the client takes to send it). */
  deadline: boolean;
}

/** Outcomes of a call whose request may have been applied though no answer came. */
const ANSWER_LOST: ReadonlySet<string> = new Set(['UPSTREAM_TIMEOUT', 'UPSTREAM_UNAVAILABLE']);
/** The newest files read to find an upload whose answer was lost. */
const RECOVERY_PAGE = 100;
const CLOCK_LEEWAY_SECONDS = 60;

/** Longer poll hints are treated as this: a poller still has deadlines to keep. */
const MAX_POLL_AFTER_MS = 60_000;

/**
 * The gateway's only door to OpenAI, for one scope. Every call carries the scope's abort signal
 * and a deadline, reads are retried by the SDK and writes are not, and every failure leaves as an
 * UpstreamError.
 */
export class Upstream {
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly sdk: OpenAI;
  /** Made by the first upload: most scopes never create a File. */
  private leftovers: LeftoverNotes | undefined;

  constructor(
    private readonly client: UpstreamClient,
    private readonly policy: UpstreamPolicy,
    private readonly scope: UpstreamScope = {},
  ) {
    this.sdk = client.sdk;
  }

  listVectorStores(page: PageParams): Promise<Page<VectorStore>> {
    return this.read('vectorStores.list', (options) =>
      pageOf(this.sdk.vectorStores.list(pageQuery(page), options)),
    );
  }

  retrieveVectorStore(vectorStoreId: string): Promise<VectorStore> {
    return this.read('vectorStores.retrieve', (options) =>
      this.sdk.vectorStores.retrieve(vectorStoreId, options),
    );
  }

  listVectorStoreFiles(
    vectorStoreId: string,
    page: PageParams & { filter?: FileStatus | undefined },
  ): Promise<Page<VectorStoreFile>> {
    return this.read('vectorStores.files.list', (options) =>
      pageOf(
        this.sdk.vectorStores.files.list(vectorStoreId, { ...pageQuery(page), filter: page.filter }, options),
      ),
    );
  }

  retrieveVectorStoreFile(vectorStoreId: string, fileId: string): Promise<VectorStoreFile> {
    return this.read('vectorStores.files.retrieve', (options) =>
      this.sdk.vectorStores.files.retrieve(fileId, { vector_store_id: vectorStoreId }, options),
    );
  }

  retrieveFileBatch(vectorStoreId: string, batchId: string): Promise<FileBatch> {
    return this.read('vectorStores.fileBatches.retrieve', (options) =>
      this.sdk.vectorStores.fileBatches.retrieve(batchId, { vector_store_id: vectorStoreId }, options),
    );
  }

  listFileBatchFiles(
    vectorStoreId: string,
    batchId: string,
    page: PageParams & { filter?: FileStatus | undefined },
  ): Promise<Page<VectorStoreFile>> {
    return this.read('vectorStores.fileBatches.listFiles', (options) =>
      pageOf(
        this.sdk.vectorStores.fileBatches.listFiles(
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
      pageOf(
        this.sdk.files.list(
          { limit: page.limit, order: page.order, after: page.after, purpose: page.purpose },
          options,
        ),
      ),
    );
  }

  retrieveFile(fileId: string): Promise<FileObject> {
    return this.read('files.retrieve', (options) => this.sdk.files.retrieve(fileId, options));
  }

  /**
   * A File's bytes, as a stream. The call's deadline and the scope's signal cover it until the
   * headers arrive; after that the body flows at the reader's pace (a 512 MB file outlasts any
   * call deadline), so whoever reads it cancels it when their own client goes away, and undici's
   * idle timeout catches an upstream that stalls mid-body.
   */
  downloadFile(fileId: string): Promise<FileDownload> {
    return this.read('files.content', async (options) => {
      const response = await this.sdk.files.content(fileId, options);
      const length = Number.parseInt(response.headers.get('content-length') ?? '', 10);
      return {
        body: response.body,
        bytes: Number.isSafeInteger(length) && length >= 0 ? length : null,
        contentDisposition: response.headers.get('content-disposition'),
        requestId: response.headers.get('x-request-id'),
      };
    });
  }

  /**
   * A POST, but it changes nothing upstream, so it is retried like a read. The page keeps the
   * queries OpenAI searched with (`search_query`), which the SDK's page type leaves out.
   */
  search(
    vectorStoreId: string,
    body: OpenAI.VectorStores.VectorStoreSearchParams,
  ): Promise<Page<SearchResult> & { searchQuery: string[] }> {
    return this.read('vectorStores.search', async (options) => {
      const { data: page, request_id } = await this.sdk.vectorStores
        .search(vectorStoreId, body, options)
        .withResponse();
      const raw = (page as unknown as { body?: { search_query?: unknown; has_more?: unknown } }).body;
      const searched = raw?.search_query;
      return {
        data: page.data,
        hasMore: raw?.has_more === true,
        requestId: request_id,
        // The schema says a list; the documentation's example shows a string.
        searchQuery: Array.isArray(searched)
          ? searched.map(String)
          : typeof searched === 'string'
            ? [searched]
            : [],
      };
    });
  }

  createVectorStore(body: OpenAI.VectorStores.VectorStoreCreateParams): Promise<VectorStore> {
    return this.write('vectorStores.create', (options) => this.sdk.vectorStores.create(body, options));
  }

  updateVectorStore(
    vectorStoreId: string,
    body: OpenAI.VectorStores.VectorStoreUpdateParams,
  ): Promise<VectorStore> {
    return this.write('vectorStores.update', (options) =>
      this.sdk.vectorStores.update(vectorStoreId, body, options),
    );
  }

  async deleteVectorStore(vectorStoreId: string): Promise<void> {
    await this.write('vectorStores.delete', (options) =>
      this.sdk.vectorStores.delete(vectorStoreId, options),
    );
  }

  createFileBatch(
    vectorStoreId: string,
    body: OpenAI.VectorStores.FileBatchCreateParams,
  ): Promise<FileBatch> {
    return this.write('vectorStores.fileBatches.create', async (options) => {
      await this.storeWriteTurn(vectorStoreId, options.signal);
      return this.sdk.vectorStores.fileBatches.create(vectorStoreId, body, options);
    });
  }

  cancelFileBatch(vectorStoreId: string, batchId: string): Promise<FileBatch> {
    return this.write('vectorStores.fileBatches.cancel', (options) =>
      this.sdk.vectorStores.fileBatches.cancel(batchId, { vector_store_id: vectorStoreId }, options),
    );
  }

  /** Attaches one file (`addFiles` goes through batches). */
  attachFile(vectorStoreId: string, body: OpenAI.VectorStores.FileCreateParams): Promise<VectorStoreFile> {
    return this.write('vectorStores.files.create', async (options) => {
      await this.storeWriteTurn(vectorStoreId, options.signal);
      return this.sdk.vectorStores.files.create(vectorStoreId, body, options);
    });
  }

  /** The parsed text of one file of a store. */
  fileContent(vectorStoreId: string, fileId: string): Promise<Page<FileContent>> {
    return this.read('vectorStores.files.content', (options) =>
      pageOf(this.sdk.vectorStores.files.content(fileId, { vector_store_id: vectorStoreId }, options)),
    );
  }

  updateVectorStoreFile(
    vectorStoreId: string,
    fileId: string,
    attributes: NonNullable<OpenAI.VectorStores.FileUpdateParams['attributes']>,
  ): Promise<VectorStoreFile> {
    return this.write('vectorStores.files.update', (options) =>
      this.sdk.vectorStores.files.update(fileId, { vector_store_id: vectorStoreId, attributes }, options),
    );
  }

  /** Detaches only: the File itself stays. */
  async detachFile(vectorStoreId: string, fileId: string): Promise<void> {
    await this.write('vectorStores.files.delete', (options) =>
      this.sdk.vectorStores.files.delete(fileId, { vector_store_id: vectorStoreId }, options),
    );
  }

  /**
   * Deletes a File (which also takes it out of every store). `outlivesRequest` is for cleanup of
   * what this request created: it must happen even when the failure was the client going away.
   */
  async deleteFile(fileId: string, options: { outlivesRequest?: boolean } = {}): Promise<void> {
    await this.run('files.delete', (callOptions) => this.sdk.files.delete(fileId, callOptions), {
      retries: 0,
      cancellable: !options.outlivesRequest,
      deadline: true,
    });
    this.leftovers?.fileGone(fileId);
  }

  /** Cancels an open upload of the Uploads API; never cut by the scope's signal. */
  async cancelUpload(uploadId: string): Promise<void> {
    await this.run('uploads.cancel', (callOptions) => this.sdk.uploads.cancel(uploadId, callOptions), {
      retries: 0,
      cancellable: false,
      deadline: true,
    });
  }

  /**
   * The request is over: its client knows of the Files it made, or they were undone. Other
   * replicas need no longer be ready to undo them (leftovers.ts).
   */
  settleLeftovers(): void {
    this.leftovers?.dropAll();
  }

  /** An attach write waits for the store's turn (store-writes.ts), within the call's deadline. */
  private storeWriteTurn(vectorStoreId: string, signal: AbortSignal | null | undefined): Promise<void> {
    const store = { baseURL: this.sdk.baseURL, vectorStoreId };
    return storeWriteTurn(this.client.storeWrites, store, this.policy.maxRetryAfterSeconds, signal);
  }

  private noteLeftover(entry: Leftover) {
    this.leftovers ??= new LeftoverNotes(this.client.leftovers, this.client.credential);
    return this.leftovers.note(entry);
  }

  /**
   * Streams one file to `POST /files`, never holding it whole (see file-upload.ts for why not
   * through the SDK). It holds one of the credential's concurrency slots while it runs. The scope's
   * signal does not cancel it: a client that goes away mid-file makes its stream fail, which cuts
   * the upload; once every byte is in, the upload is let finish, so the File it creates is known
   * and can be removed, rather than a cancelled request that upstream may still have stored. The
   * per-call deadline does not apply either, since the client sets the pace; upstream stalls are
   * caught by undici's idle timeouts. When the stream fails, its error is what this rejects with.
   */
  async uploadFile(
    file: FileToUpload,
    options: { purpose: FilePurpose; expiresAfterSeconds?: number | undefined },
  ): Promise<FileObject> {
    let sourceError: unknown;
    file.body.once('error', (error) => {
      sourceError = error;
    });
    let sent: { bytes: number; at: number } | undefined;
    const startedAt = Math.floor(Date.now() / 1000);
    const sending = { filename: sentFilename(file.filename), purpose: options.purpose, at: startedAt };
    const note = await this.noteLeftover({ kind: 'sending', ...sending });
    let handedOver = false;
    try {
      const created = await this.run(
        'files.create',
        () =>
          this.client.sendOutsideSdk(() => {
            handedOver = true;
            return uploadFileStream(uploadTarget(this.client), file, {
              ...options,
              timeoutMs: this.policy.callTimeoutMs,
              onBodySent: (bytes) => {
                sent = { bytes, at: startedAt };
                note.update({ kind: 'sending', ...sending, bytes });
              },
            });
          }, this.policy.callTimeoutMs),
        { retries: 0, cancellable: false, deadline: false },
      );
      note.update({ kind: 'file', fileId: created.id });
      return created;
    } catch (error) {
      if (!sourceError && sent && error instanceof UpstreamError && ANSWER_LOST.has(error.code)) {
        const found = await this.findSent(sending.filename, options.purpose, sent).catch(() => null);
        if (found) {
          note.update({ kind: 'file', fileId: found.id });
          return found;
        }
      }
      note.drop();
      // A cool-down that outlasted the wait: the stream was never read, and must not stay open.
      if (!handedOver) {
        file.body.on('error', () => {});
        file.body.destroy();
      }
      throw sourceError ?? error;
    }
  }

  /**
   * Streams one file of a declared size through the Uploads API in parts (parted-upload.ts), for
   * files past what `POST /files` takes. Every call is counted, budgeted and reported like any
   * other. The scope's signal never leaves an upload open: the create and the completion are not
   * cut by it (an upload or a File made unseen would be left behind), the parts are, and whatever
   * stops the upload cancels it, in a call that outlives the request. When the stream fails, its
   * error is what this rejects with.
   */
  async uploadFileInParts(
    file: FileToUpload,
    options: PartedUploadOptions & {
      purpose: FilePurpose;
      /** The size declared for the file; any other size fails with UploadSizeMismatch. */
      bytes: number;
      expiresAfterSeconds?: number | undefined;
    },
  ): Promise<FileObject> {
    const filename = sentFilename(file.filename);
    const { purpose, bytes } = options;
    if (this.cancelled) {
      file.body.on('error', () => {});
      file.body.destroy();
      throw toUpstreamError(new APIUserAbortError(), false, this.scope.signal);
    }
    const once = { retries: 0, deadline: true };
    let createdAt = 0;
    let note: LeftoverNote | undefined;
    return uploadInParts(
      file.body,
      bytes,
      {
        create: async () => {
          const upload = await this.run(
            'uploads.create',
            (callOptions) =>
              this.sdk.uploads.create(
                {
                  filename,
                  purpose,
                  bytes,
                  mime_type: safeMimetype(file.mimetype),
                  ...(options.expiresAfterSeconds === undefined
                    ? {}
                    : { expires_after: { anchor: 'created_at', seconds: options.expiresAfterSeconds } }),
                },
                callOptions,
              ),
            { ...once, cancellable: false },
          );
          createdAt = upload.created_at;
          note = await this.noteLeftover({
            kind: 'upload',
            uploadId: upload.id,
            filename,
            purpose,
            bytes,
            at: createdAt,
          });
          return upload;
        },
        addPart: (uploadId, data, signal) =>
          this.run(
            'uploads.parts.create',
            async (callOptions) => {
              const link = linkSignals([callOptions.signal ?? undefined, signal]);
              try {
                // A view of the part's buffer, streamed as it is: a `File` would copy it first.
                return await this.sdk.uploads.parts.create(
                  uploadId,
                  { data: toStreamingFile(onceOf(data), 'part', { type: 'application/octet-stream' }) },
                  { ...callOptions, signal: link.signal },
                );
              } finally {
                link.release();
              }
            },
            { ...once, cancellable: true },
          ),
        complete: async (uploadId, partIds, md5) => {
          try {
            const upload = await this.run(
              'uploads.complete',
              (callOptions) => this.sdk.uploads.complete(uploadId, { part_ids: partIds, md5 }, callOptions),
              { ...once, cancellable: false },
            );
            if (!upload.file)
              throw new UpstreamError(
                'UPSTREAM_UNAVAILABLE',
                'OpenAI completed the upload without its File.',
              );
            note?.update({ kind: 'file', fileId: upload.file.id });
            return upload.file;
          } catch (error) {
            // The File of a completed upload carries the upload's created_at (UploadsTests).
            if (error instanceof UpstreamError && ANSWER_LOST.has(error.code)) {
              const found = await this.findSent(filename, purpose, { bytes, at: createdAt }).catch(
                () => null,
              );
              if (found) {
                note?.update({ kind: 'file', fileId: found.id });
                return found;
              }
            }
            throw error;
          }
        },
        cancel: async (uploadId) => {
          await this.cancelUpload(uploadId);
          note?.drop();
        },
      },
      options,
    );
  }

  /**
   * The File an upload created when its answer was lost (the body went out whole, then the
   * answer timed out or the connection failed): OpenAI may well have stored it, and an upload
   * the caller is told failed would then cost storage unseen. The newest files are read once and
   * one with the same name, purpose and size, created since the upload began (give or take a
   * minute of clock difference), is taken for it. A survivor finds a dead replica's upload so too
   * (leftover-undo.ts).
   */
  async findSent(
    filename: string,
    purpose: FilePurpose,
    sent: { bytes: number; at: number },
  ): Promise<FileObject | null> {
    const page = await this.listFiles({ limit: RECOVERY_PAGE, order: 'desc', purpose });
    return (
      page.data.find(
        (candidate) =>
          candidate.filename === filename &&
          candidate.bytes === sent.bytes &&
          // OpenAI's clock and ours may differ: a minute's leeway.
          candidate.created_at >= sent.at - CLOCK_LEEWAY_SECONDS,
      ) ?? null
    );
  }

  pollFileBatch(vectorStoreId: string, batchId: string): Promise<Polled<FileBatch>> {
    return this.poll('vectorStores.fileBatches.retrieve', (options) =>
      this.sdk.vectorStores.fileBatches.retrieve(batchId, { vector_store_id: vectorStoreId }, options),
    );
  }

  pollVectorStoreFile(vectorStoreId: string, fileId: string): Promise<Polled<VectorStoreFile>> {
    return this.poll('vectorStores.files.retrieve', (options) =>
      this.sdk.vectorStores.files.retrieve(fileId, { vector_store_id: vectorStoreId }, options),
    );
  }

  pollVectorStore(vectorStoreId: string): Promise<Polled<VectorStore>> {
    return this.poll('vectorStores.retrieve', (options) =>
      this.sdk.vectorStores.retrieve(vectorStoreId, options),
    );
  }

  /**
   * A digest of `data` keyed by this credential (its key, with the upstream, organization and
   * project it talks to). State handed to a client, or kept between its requests, is bound to the
   * credential it was made for with it: any replica holding the same credential computes the same
   * digest, and the digest reveals nothing of the key.
   */
  credentialDigest(data: string): Buffer {
    const { apiKey, baseURL, organization, project } = this.client.credential;
    return createHmac('sha256', apiKey)
      .update(JSON.stringify([baseURL ?? null, organization ?? null, project ?? null, data]))
      .digest();
  }

  /** The calls this scope may still make. */
  get remainingCalls(): number {
    return this.scope.budget?.remaining ?? Number.POSITIVE_INFINITY;
  }

  /** Whether the scope was cancelled (the client went away, or its deadline passed). */
  get cancelled(): boolean {
    return this.scope.signal?.aborted ?? false;
  }

  /**
   * Resolves once no call of this scope is in flight (or after `maxWaitMs`). Detail loaders
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

  private read<T>(operation: string, call: (options: CallOptions) => Promise<T>): Promise<T> {
    return this.run(operation, call, { retries: this.policy.readRetries, cancellable: true, deadline: true });
  }

  /** Writes go out once: the SDK sends no idempotency key, so a retried create is a duplicate. */
  private write<T>(operation: string, call: (options: CallOptions) => Promise<T>): Promise<T> {
    return this.run(operation, call, { retries: 0, cancellable: true, deadline: true });
  }

  /**
   * A status read, attempted once: a poller's own backoff is its retry, and SDK retries on top of
   * it would multiply the load on an upstream that is already failing. It keeps the response's
   * `openai-poll-after-ms`, which plain reads drop.
   */
  private poll<T>(
    operation: string,
    call: (options: CallOptions) => { withResponse(): Promise<{ data: T; response: Response }> },
  ): Promise<Polled<T>> {
    return this.run(
      operation,
      async (options) => {
        const { data, response } = await call(options).withResponse();
        return { value: data, pollAfterMs: pollAfterMs(response.headers) };
      },
      { retries: 0, cancellable: true, deadline: true },
    );
  }

  private async run<T>(
    operation: string,
    call: (options: CallOptions) => Promise<T>,
    attempts: Attempts,
  ): Promise<T> {
    this.scope.budget?.take(operation);
    const link = linkSignals(
      [attempts.cancellable ? this.scope.signal : undefined],
      attempts.deadline ? this.policy.callTimeoutMs : undefined,
    );
    const started = performance.now();
    this.inFlight++;
    try {
      const result = await untilAborted(
        call({ signal: link.signal, maxRetries: attempts.retries }),
        link.signal,
      );
      this.report(operation, 'ok', started, requestIdOf(result));
      return result;
    } catch (error) {
      const failure = toUpstreamError(error, link.timedOut, this.scope.signal);
      this.report(operation, failure.code, started, failure.requestId);
      throw failure;
    } finally {
      link.release();
      this.inFlight--;
      // Let the continuations of this call queue their keys before waiting loaders dispatch.
      if (this.inFlight === 0) setImmediate(() => this.wakeIdleWaiters());
    }
  }

  private report(
    operation: string,
    outcome: UpstreamCall['outcome'],
    started: number,
    upstreamRequestId: string | null,
  ): void {
    this.scope.onCall?.({ operation, outcome, durationMs: performance.now() - started, upstreamRequestId });
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
 * once the wait is over. The call left behind sends nothing more (the signal is checked before
 * every attempt) and its late failure is dropped.
 */
function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new APIUserAbortError());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** One chunk as the async iterable a streaming file takes. */
async function* onceOf(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

/** Pages, unlike objects, do not carry OpenAI's request id; the raw response does. */
async function pageOf<T>(pending: {
  withResponse(): Promise<{ data: { data: T[]; has_more?: boolean }; request_id: string | null }>;
}): Promise<Page<T>> {
  const { data: page, request_id } = await pending.withResponse();
  return { data: page.data, hasMore: page.has_more ?? false, requestId: request_id };
}

/** OpenAI's request id of a result: the SDK hides it on objects, `pageOf` keeps it on pages. */
function requestIdOf(result: unknown): string | null {
  if (typeof result !== 'object' || result === null) return null;
  const id = '_request_id' in result ? result._request_id : 'requestId' in result ? result.requestId : null;
  return typeof id === 'string' ? id : null;
}

function pollAfterMs(headers: Headers): number | null {
  const value = Number.parseInt(headers.get('openai-poll-after-ms') ?? '', 10);
  return Number.isFinite(value) && value >= 0 ? Math.min(value, MAX_POLL_AFTER_MS) : null;
}

/** The credential as the one call that does not go through the SDK needs it. */
function uploadTarget(client: UpstreamClient) {
  return {
    baseURL: client.sdk.baseURL,
    apiKey: client.credential.apiKey,
    organization: client.credential.organization ?? null,
    project: client.credential.project ?? null,
  };
}

function pageQuery(page: PageParams) {
  return { limit: page.limit, order: page.order, after: page.after, before: page.before };
}
