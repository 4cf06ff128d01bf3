import type {
  FileBatch,
  FileCounts,
  Polled,
  Upstream,
  VectorStore,
  VectorStoreFile,
} from '../upstream/index.ts';

/** The objects whose processing can be watched, each named the way OpenAI addresses it. */
export type LiveTarget =
  | { kind: 'fileBatch'; vectorStoreId: string; batchId: string }
  | { kind: 'vectorStoreFile'; vectorStoreId: string; fileId: string }
  | { kind: 'vectorStore'; vectorStoreId: string };

export interface Watched {
  fileBatch: FileBatch;
  vectorStoreFile: VectorStoreFile;
  vectorStore: VectorStore;
}

export type LiveKind = keyof Watched;
export type TargetOf<K extends LiveKind> = Extract<LiveTarget, { kind: K }>;

/** What a poller needs to know about one kind of object. */
export interface Behaviour<K extends LiveKind> {
  poll(upstream: Upstream, target: TargetOf<K>): Promise<Polled<Watched[K]>>;
  /** No further change will come without someone acting on it. */
  isTerminal(value: Watched[K]): boolean;
  /** What subscribers are told about: equal fingerprints are not pushed again. */
  fingerprint(value: Watched[K]): string;
  /** Identifies the object within one credential. */
  key(target: TargetOf<K>): string;
  /** For messages: "file batch vsfb_... of vector store vs_...". */
  describe(target: TargetOf<K>): string;
  /** For messages: where it stands, e.g. "3 of 5 files still in progress". */
  progress(value: Watched[K]): string;
}

function countsKey(counts: FileCounts): string {
  return `${counts.in_progress}/${counts.completed}/${counts.failed}/${counts.cancelled}/${counts.total}`;
}

function filesInProgress(counts: FileCounts): string {
  return `${counts.in_progress} of ${counts.total} files still in progress`;
}

export const BEHAVIOURS: { [K in LiveKind]: Behaviour<K> } = {
  fileBatch: {
    poll: (upstream, target) => upstream.pollFileBatch(target.vectorStoreId, target.batchId),
    // `cancelling` is not terminal: the files it cancels still change the counts.
    isTerminal: (batch) => ['completed', 'cancelled', 'failed'].includes(batch.status),
    fingerprint: (batch) => `${batch.status} ${countsKey(batch.file_counts)}`,
    key: (target) => `fileBatch:${target.vectorStoreId}:${target.batchId}`,
    describe: (target) => `file batch ${target.batchId} of vector store ${target.vectorStoreId}`,
    progress: (batch) => filesInProgress(batch.file_counts),
  },
  vectorStoreFile: {
    poll: (upstream, target) => upstream.pollVectorStoreFile(target.vectorStoreId, target.fileId),
    isTerminal: (file) => file.status !== 'in_progress',
    fingerprint: (file) => `${file.status} ${file.usage_bytes} ${file.last_error?.code ?? ''}`,
    key: (target) => `vectorStoreFile:${target.vectorStoreId}:${target.fileId}`,
    describe: (target) => `file ${target.fileId} of vector store ${target.vectorStoreId}`,
    progress: (file) => `status ${file.status}`,
  },
  vectorStore: {
    poll: (upstream, target) => upstream.pollVectorStore(target.vectorStoreId),
    // Both, since the store's status and its counts are derived separately upstream.
    isTerminal: (store) => store.file_counts.in_progress === 0 && store.status !== 'in_progress',
    fingerprint: (store) => `${store.status} ${countsKey(store.file_counts)} ${store.usage_bytes}`,
    key: (target) => `vectorStore:${target.vectorStoreId}`,
    describe: (target) => `vector store ${target.vectorStoreId}`,
    progress: (store) => filesInProgress(store.file_counts),
  },
};

export function behaviourOf<K extends LiveKind>(kind: K): Behaviour<K> {
  return BEHAVIOURS[kind];
}
