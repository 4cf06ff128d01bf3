/**
 * The emulator's in-memory model. It stores facts (what was uploaded, attached, cancelled and
 * when) and derives everything else on read: file status from the clock, store and batch status,
 * counts and usage from their files. Nothing derived is cached, so no two views can disagree.
 */
import { ApiError } from './errors.ts';
import { newFileBatchId, newFileId, newUploadId, newUploadPartId, newVectorStoreId } from './ids.ts';
import { assessFile, extractText, type IndexError } from './indexing.ts';
import type { Listable } from './pagination.ts';
import type { Attributes, Metadata, StaticChunking, VectorStoreExpiry } from './validation.ts';

export interface Clock {
  now(): number;
}

export interface StoredFile extends Listable {
  filename: string;
  purpose: string;
  bytes: number;
  expiresAt: number | null;
  content: Buffer;
}

export type VectorStoreFileStatus = 'in_progress' | 'completed' | 'failed' | 'cancelled';

export interface VectorStoreFileRecord extends Listable {
  /** The File id: a vector-store file has no id of its own. */
  id: string;
  vectorStoreId: string;
  batchId: string | null;
  attributes: Attributes;
  chunking: StaticChunking;
  /** When processing finishes (ms); a release of `hold` may push it later. */
  readyAtMs: number;
  held: boolean;
  cancelled: boolean;
  /** Decided at attach time from the (immutable) content; revealed once processing finishes. */
  indexError: IndexError | null;
}

export interface VectorStoreRecord extends Listable {
  name: string | null;
  description: string | null;
  metadata: Metadata;
  lastActiveAt: number;
  expiresAfter: VectorStoreExpiry | null;
  /** Insertion order; a re-attach moves the file to the end. */
  files: Map<string, VectorStoreFileRecord>;
}

export interface FileBatchRecord extends Listable {
  vectorStoreId: string;
  cancelled: boolean;
}

export type UploadStatus = 'pending' | 'completed' | 'cancelled' | 'expired';

export interface UploadPartRecord {
  id: string;
  uploadId: string;
  createdAt: number;
  /** The bytes as they arrived, not concatenated: a part is held once, like a stored file. */
  chunks: Buffer[];
  bytes: number;
}

export interface UploadRecord {
  id: string;
  createdAt: number;
  /** Always created_at + 1 hour (openai-dotnet UploadsTests: all ten creates). */
  expiresAt: number;
  filename: string;
  purpose: string;
  /** The size announced on create, which the listed parts must add up to at completion. */
  bytes: number;
  mimeType: string;
  /** `expires_after.seconds` from create: the lifetime of the File made at completion. */
  fileExpiresAfterSeconds: number | undefined;
  /** What happened to it; `expired` is derived from the clock while it is still pending. */
  outcome: 'pending' | 'completed' | 'cancelled';
  parts: Map<string, UploadPartRecord>;
  /** Bytes held by `parts`, counted in `storedBytes` too. */
  partBytes: number;
  /** A fixture of the SDK's own tests (`sdkFixtures`, fixtures.ts): never consumed nor expired. */
  fixture: boolean;
}

export interface FileCounts {
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}

/**
 * Records that a create call has just produced. The create response reports them `in_progress`
 * even with a zero delay, as the real API does; later reads evaluate them against the clock.
 */
export type FreshRecords = ReadonlySet<VectorStoreFileRecord>;

const SECONDS_PER_DAY = 86_400;
const BATCH_FILE_LIFETIME_SECONDS = 30 * SECONDS_PER_DAY;
const UPLOAD_LIFETIME_SECONDS = 3600;

export class EmulatorState {
  readonly files = new Map<string, StoredFile>();
  readonly vectorStores = new Map<string, VectorStoreRecord>();
  readonly batches = new Map<string, FileBatchRecord>();
  readonly uploads = new Map<string, UploadRecord>();
  /** Bytes of stored files and of the parts of pending uploads: what `maxStoredBytes` caps. */
  storedBytes = 0;
  uploadsInFlight = 0;
  processingDelayMs: number;
  private holding = false;
  private seq = 0;
  private readonly chunkCache = new WeakMap<VectorStoreFileRecord, string[]>();

  constructor(
    private readonly clock: Clock,
    private readonly defaultDelayMs: number,
  ) {
    this.processingDelayMs = defaultDelayMs;
  }

  nowMs(): number {
    return this.clock.now();
  }

  nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  reset(): void {
    this.files.clear();
    this.vectorStores.clear();
    this.batches.clear();
    this.uploads.clear();
    this.storedBytes = 0;
    this.processingDelayMs = this.defaultDelayMs;
    this.holding = false;
  }

  private nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  // Files

  addFile(input: {
    filename: string;
    purpose: string;
    content: Buffer;
    expiresAfterSeconds?: number | undefined;
    /** A completed upload's File carries the upload's created_at (UploadsTests/CompleteUploadWorks). */
    createdAt?: number;
  }): StoredFile {
    const createdAt = input.createdAt ?? this.nowSeconds();
    const lifetime =
      input.expiresAfterSeconds ?? (input.purpose === 'batch' ? BATCH_FILE_LIFETIME_SECONDS : undefined);
    const file: StoredFile = {
      id: newFileId(),
      createdAt,
      seq: this.nextSeq(),
      filename: input.filename,
      purpose: input.purpose,
      bytes: input.content.length,
      expiresAt: lifetime === undefined ? null : createdAt + lifetime,
      content: input.content,
    };
    this.files.set(file.id, file);
    this.storedBytes += file.bytes;
    return file;
  }

  /**
   * Expired files vanish as the real API deletes them, and expired uploads drop their parts;
   * swept lazily before each request.
   */
  sweepExpired(): void {
    const now = this.nowSeconds();
    for (const file of this.files.values()) {
      if (file.expiresAt !== null && now >= file.expiresAt) this.deleteFile(file.id);
    }
    for (const upload of this.uploads.values()) {
      if (upload.partBytes > 0 && this.uploadStatus(upload) === 'expired') this.dropParts(upload);
    }
  }

  findFile(id: string): StoredFile | undefined {
    return this.files.get(id);
  }

  getFile(id: string): StoredFile {
    const file = this.files.get(id);
    if (!file) throw new ApiError(404, `No such File object: ${id}`, { param: 'id' });
    return file;
  }

  /** Deleting a File also detaches it from every store, so store counts drop at once. */
  deleteFile(id: string): void {
    const file = this.getFile(id);
    for (const store of this.vectorStores.values()) store.files.delete(id);
    this.files.delete(id);
    this.storedBytes -= file.bytes;
  }

  // Uploads

  createUpload(input: {
    filename: string;
    purpose: string;
    bytes: number;
    mimeType: string;
    fileExpiresAfterSeconds: number | undefined;
    id?: string;
    fixture?: boolean;
  }): UploadRecord {
    const createdAt = this.nowSeconds();
    const upload: UploadRecord = {
      id: input.id ?? newUploadId(),
      createdAt,
      expiresAt: createdAt + UPLOAD_LIFETIME_SECONDS,
      filename: input.filename,
      purpose: input.purpose,
      bytes: input.bytes,
      mimeType: input.mimeType,
      fileExpiresAfterSeconds: input.fileExpiresAfterSeconds,
      outcome: 'pending',
      parts: new Map(),
      partBytes: 0,
      fixture: input.fixture ?? false,
    };
    this.uploads.set(upload.id, upload);
    return upload;
  }

  getUpload(id: string): UploadRecord {
    const upload = this.uploads.get(id);
    // Worded like the recorded "No such File object: fake_id" of the same API family.
    if (!upload) throw new ApiError(404, `No such Upload object: ${id}`, { param: 'id' });
    return upload;
  }

  uploadStatus(upload: UploadRecord): UploadStatus {
    if (upload.outcome !== 'pending') return upload.outcome;
    return !upload.fixture && this.nowSeconds() >= upload.expiresAt ? 'expired' : 'pending';
  }

  addUploadPart(upload: UploadRecord, chunks: Buffer[], bytes: number): UploadPartRecord {
    const part: UploadPartRecord = {
      id: newUploadPartId(),
      uploadId: upload.id,
      createdAt: this.nowSeconds(),
      chunks,
      bytes,
    };
    upload.parts.set(part.id, part);
    upload.partBytes += bytes;
    this.storedBytes += bytes;
    return part;
  }

  /** Releases every part's bytes: on completion, cancel and expiry. */
  dropParts(upload: UploadRecord): void {
    this.storedBytes -= upload.partBytes;
    upload.partBytes = 0;
    upload.parts.clear();
  }

  /**
   * Makes the File from the given parts, in the given order, copying each part into the File and
   * releasing it as it goes, so the bytes are held about once rather than twice.
   */
  completeUpload(upload: UploadRecord, parts: readonly UploadPartRecord[]): StoredFile {
    const total = parts.reduce((sum, part) => sum + part.bytes, 0);
    const content = Buffer.allocUnsafe(total);
    let offset = 0;
    for (const part of parts) {
      for (const chunk of part.chunks) offset += chunk.copy(content, offset);
      if (!upload.fixture) part.chunks = [];
    }
    if (!upload.fixture) {
      this.dropParts(upload);
      upload.outcome = 'completed';
    }
    return this.addFile({
      filename: upload.filename,
      purpose: upload.purpose,
      content,
      expiresAfterSeconds: upload.fileExpiresAfterSeconds,
      createdAt: upload.createdAt,
    });
  }

  openUploads(): { openUploads: number; uploadPartBytes: number } {
    let openUploads = 0;
    let uploadPartBytes = 0;
    for (const upload of this.uploads.values()) {
      if (this.uploadStatus(upload) !== 'pending') continue;
      openUploads += 1;
      uploadPartBytes += upload.partBytes;
    }
    return { openUploads, uploadPartBytes };
  }

  cancelUpload(upload: UploadRecord): void {
    if (upload.fixture) return;
    this.dropParts(upload);
    upload.outcome = 'cancelled';
  }

  // Vector stores

  createVectorStore(input: {
    name: string | null;
    description: string | null;
    metadata: Metadata;
    expiresAfter: VectorStoreExpiry | null;
  }): VectorStoreRecord {
    const createdAt = this.nowSeconds();
    const store: VectorStoreRecord = {
      id: newVectorStoreId(),
      createdAt,
      seq: this.nextSeq(),
      ...input,
      lastActiveAt: createdAt,
      files: new Map(),
    };
    this.vectorStores.set(store.id, store);
    return store;
  }

  getVectorStore(id: string): VectorStoreRecord {
    const store = this.vectorStores.get(id);
    if (!store)
      throw new ApiError(404, `No vector store found with id '${id}'.`, { param: 'vector_store_id' });
    return store;
  }

  deleteVectorStore(id: string): void {
    this.getVectorStore(id);
    this.vectorStores.delete(id);
    for (const batch of this.batches.values()) {
      if (batch.vectorStoreId === id) this.batches.delete(batch.id);
    }
  }

  /** Attaching and searching count as activity; plain reads do not (a documented choice). */
  touch(store: VectorStoreRecord): void {
    store.lastActiveAt = this.nowSeconds();
  }

  expiresAt(store: VectorStoreRecord): number | null {
    return store.expiresAfter ? store.lastActiveAt + store.expiresAfter.days * SECONDS_PER_DAY : null;
  }

  isExpired(store: VectorStoreRecord): boolean {
    const expiresAt = this.expiresAt(store);
    return expiresAt !== null && this.nowSeconds() >= expiresAt;
  }

  assertUsable(store: VectorStoreRecord): void {
    if (this.isExpired(store))
      throw new ApiError(400, `Vector store '${store.id}' has expired.`, { code: 'expired' });
  }

  storeStatus(store: VectorStoreRecord, fresh?: FreshRecords): 'expired' | 'in_progress' | 'completed' {
    if (this.isExpired(store)) return 'expired';
    return this.countFiles(store.files.values(), fresh).in_progress > 0 ? 'in_progress' : 'completed';
  }

  usageBytes(store: VectorStoreRecord, fresh?: FreshRecords): number {
    let total = 0;
    for (const record of store.files.values()) total += this.fileUsageBytes(record, fresh);
    return total;
  }

  // Vector-store files

  /**
   * Attaching a file that is already in the store re-indexes it: the old record is replaced and the
   * file moves to the end of the store's list, like a fresh attach.
   */
  attach(
    store: VectorStoreRecord,
    file: StoredFile,
    options: { attributes: Attributes; chunking: StaticChunking; batchId: string | null },
  ): VectorStoreFileRecord {
    const now = this.nowMs();
    const record: VectorStoreFileRecord = {
      id: file.id,
      vectorStoreId: store.id,
      createdAt: this.nowSeconds(),
      seq: this.nextSeq(),
      batchId: options.batchId,
      attributes: options.attributes,
      chunking: options.chunking,
      readyAtMs: now + this.processingDelayMs,
      held: this.holding,
      cancelled: false,
      indexError: assessFile(file.filename, file.content),
    };
    store.files.delete(file.id);
    store.files.set(file.id, record);
    this.touch(store);
    return record;
  }

  getVectorStoreFile(store: VectorStoreRecord, fileId: string): VectorStoreFileRecord {
    const record = store.files.get(fileId);
    if (!record) {
      throw new ApiError(404, `No file found with id '${fileId}' in vector store '${store.id}'.`, {
        param: 'file_id',
      });
    }
    return record;
  }

  fileStatus(record: VectorStoreFileRecord, fresh?: FreshRecords): VectorStoreFileStatus {
    if (record.cancelled) return 'cancelled';
    if (fresh?.has(record) || record.held || this.nowMs() < record.readyAtMs) return 'in_progress';
    return record.indexError ? 'failed' : 'completed';
  }

  fileUsageBytes(record: VectorStoreFileRecord, fresh?: FreshRecords): number {
    return this.fileStatus(record, fresh) === 'completed' ? (this.files.get(record.id)?.bytes ?? 0) : 0;
  }

  countFiles(records: Iterable<VectorStoreFileRecord>, fresh?: FreshRecords): FileCounts {
    const counts: FileCounts = { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 };
    for (const record of records) {
      counts[this.fileStatus(record, fresh)] += 1;
      counts.total += 1;
    }
    return counts;
  }

  textOf(record: VectorStoreFileRecord): string {
    const file = this.files.get(record.id);
    return file ? extractText(file.filename, file.content) : '';
  }

  /** Chunks are computed once per attach; the content and chunking of a record never change. */
  chunksOf(
    record: VectorStoreFileRecord,
    chunk: (text: string, chunking: StaticChunking) => string[],
  ): string[] {
    let chunks = this.chunkCache.get(record);
    if (!chunks) {
      chunks = chunk(this.textOf(record), record.chunking);
      this.chunkCache.set(record, chunks);
    }
    return chunks;
  }

  // File batches

  createBatch(store: VectorStoreRecord): FileBatchRecord {
    const batch: FileBatchRecord = {
      id: newFileBatchId(),
      vectorStoreId: store.id,
      createdAt: this.nowSeconds(),
      seq: this.nextSeq(),
      cancelled: false,
    };
    this.batches.set(batch.id, batch);
    return batch;
  }

  getBatch(store: VectorStoreRecord, batchId: string): FileBatchRecord {
    const batch = this.batches.get(batchId);
    if (!batch || batch.vectorStoreId !== store.id) {
      throw new ApiError(404, `No file batch found with id '${batchId}' in vector store '${store.id}'.`, {
        param: 'batch_id',
      });
    }
    return batch;
  }

  /** A batch's files are the store's records it attached and that nothing has replaced since. */
  batchFiles(batch: FileBatchRecord): VectorStoreFileRecord[] {
    const store = this.vectorStores.get(batch.vectorStoreId);
    return store ? [...store.files.values()].filter((record) => record.batchId === batch.id) : [];
  }

  batchStatus(batch: FileBatchRecord, fresh?: FreshRecords): VectorStoreFileStatus {
    const counts = this.countFiles(this.batchFiles(batch), fresh);
    if (counts.in_progress > 0) return 'in_progress';
    if (batch.cancelled) return 'cancelled';
    return counts.total > 0 && counts.failed === counts.total ? 'failed' : 'completed';
  }

  /** Cancels what is still processing; files that already finished keep their outcome. */
  cancelBatch(batch: FileBatchRecord): void {
    let cancelledAny = false;
    for (const record of this.batchFiles(batch)) {
      if (this.fileStatus(record) === 'in_progress') {
        record.cancelled = true;
        cancelledAny = true;
      }
    }
    if (cancelledAny) batch.cancelled = true;
  }

  // Processing control

  /**
   * While held, files that have not finished stay in_progress. On release they finish at the
   * release time, or at their own ready time if that is later.
   */
  setProcessing(options: { delayMs?: number; hold?: boolean }): void {
    if (options.delayMs !== undefined) this.processingDelayMs = options.delayMs;
    if (options.hold === undefined || options.hold === this.holding) return;
    this.holding = options.hold;
    const now = this.nowMs();
    for (const store of this.vectorStores.values()) {
      for (const record of store.files.values()) {
        if (options.hold && !record.cancelled && now < record.readyAtMs) record.held = true;
        if (!options.hold && record.held) {
          record.held = false;
          record.readyAtMs = Math.max(record.readyAtMs, now);
        }
      }
    }
  }

  processing(): { delayMs: number; hold: boolean } {
    return { delayMs: this.processingDelayMs, hold: this.holding };
  }
}
