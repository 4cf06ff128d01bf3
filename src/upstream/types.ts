import type OpenAI from 'openai';

/** The real API sends `description` and a null `name`, neither of which the SDK type admits. */
export type VectorStore = Omit<OpenAI.VectorStores.VectorStore, 'name'> & {
  name: string | null;
  description?: string | null;
};
export type VectorStoreFile = OpenAI.VectorStores.VectorStoreFile;
export type FileBatch = OpenAI.VectorStores.VectorStoreFileBatch;
export type FileObject = OpenAI.FileObject;
export type SearchResult = OpenAI.VectorStores.VectorStoreSearchResponse;
/** One part of a store file's parsed text. */
export type FileContent = OpenAI.VectorStores.Files.FileContentResponse;
/** How many files of a store or a batch are in each processing state. */
export type FileCounts = OpenAI.VectorStores.VectorStore['file_counts'];
export type ListOrder = 'asc' | 'desc';
export type FileStatus = VectorStoreFile['status'];

/** A File's bytes as OpenAI streams them, with what its headers say about them. */
export interface FileDownload {
  body: ReadableStream<Uint8Array> | null;
  /** From `content-length`; null when upstream streams it chunked. */
  bytes: number | null;
  /** OpenAI's own (`attachment; filename="..."`); null when it sent none. */
  contentDisposition: string | null;
  requestId: string | null;
}

/** One page of an OpenAI list, as the gateway needs it: never auto-paginated. */
export interface Page<T> {
  data: T[];
  hasMore: boolean;
  /** OpenAI's `x-request-id` of the list call. */
  requestId?: string | null;
}

export interface PageParams {
  limit: number;
  order: ListOrder;
  after?: string | undefined;
  before?: string | undefined;
}

/** A status read, with the interval the upstream asked for, if it sent one. */
export interface Polled<T> {
  value: T;
  /** `openai-poll-after-ms`: the soonest OpenAI wants to be asked again; null when not sent. */
  pollAfterMs: number | null;
}

/**
 * Every page of a list from `after` on, one upstream call each, until the list ends or the
 * caller stops asking (breaking out of the loop). The one page loop of the gateway.
 */
export async function* walkPages<T extends { id: string }>(
  fetchPage: (after: string | undefined) => Promise<Page<T>>,
  after?: string,
): AsyncGenerator<Page<T>, void, undefined> {
  let cursor = after;
  for (;;) {
    const page = await fetchPage(cursor);
    yield page;
    cursor = page.data.at(-1)?.id;
    if (!page.hasMore || cursor === undefined) return;
  }
}
