import { gql, type TypedDocumentNode } from '@apollo/client';

/**
 * The operations, each typed with what the gateway's schema (schema.graphql) answers, so `data`
 * and `variables` are checked where they are used. Typed by hand: these few do not need a code
 * generator, and running them against the gateway proves the selections valid.
 */

export type VectorStoreStatus = 'COMPLETED' | 'EXPIRED' | 'IN_PROGRESS';
export type FileBatchStatus = 'CANCELLED' | 'CANCELLING' | 'COMPLETED' | 'FAILED' | 'IN_PROGRESS';

export interface FileCounts {
  __typename?: 'FileCounts';
  inProgress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}

export interface StoreSummary {
  __typename?: 'VectorStore';
  id: string;
  name: string | null;
  status: VectorStoreStatus;
  fileCounts: Pick<FileCounts, '__typename' | 'total' | 'completed'>;
}

export interface StoresPageData {
  vectorStores: {
    __typename?: 'VectorStoreConnection';
    edges: Array<{ __typename?: 'VectorStoreEdge'; cursor: string; node: StoreSummary }>;
    pageInfo: { __typename?: 'PageInfo'; hasNextPage: boolean; endCursor: string | null };
  } | null;
}

/** Edges, not `nodes`: relayStylePagination merges pages by their edges and cursors. */
export const STORES_PAGE: TypedDocumentNode<StoresPageData, { first: number; after?: string | null }> = gql`
  query StoresPage($first: Int!, $after: String) {
    vectorStores(first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          name
          status
          fileCounts {
            total
            completed
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

export interface StoreData {
  vectorStore: (StoreSummary & { __typename?: 'VectorStore' }) | null;
}

/** One store by id: the same cache entry as its row in the list. */
export const STORE: TypedDocumentNode<StoreData, { id: string }> = gql`
  query Store($id: ID!) {
    vectorStore(id: $id) {
      id
      name
      status
      fileCounts {
        total
        completed
      }
    }
  }
`;

export interface StoreSearchData {
  vectorStore: {
    __typename?: 'VectorStore';
    id: string;
    name: string | null;
    /** Deferred: absent from the first result, there once the search has answered. */
    search?: Array<{ __typename?: 'VectorStoreSearchResult'; filename: string; score: number }> | null;
  } | null;
}

/**
 * A store's name at once and a search of its files when it has answered: the search, a paid
 * upstream call that can take seconds, is deferred so a page shows the store without waiting.
 */
export const STORE_SEARCH: TypedDocumentNode<StoreSearchData, { id: string; query: string }> = gql`
  query StoreSearch($id: ID!, $query: String!) {
    vectorStore(id: $id) {
      id
      name
      ... @defer(label: "search") {
        search(query: $query, maxResults: 5) {
          filename
          score
        }
      }
    }
  }
`;

interface MutationErrorFields {
  __typename: 'InvalidInputError' | 'NotFoundError' | 'RateLimitedError' | 'UpstreamError';
  message: string;
  field?: string;
}

export interface CreateStoreData {
  createVectorStore:
    | {
        __typename: 'CreateVectorStorePayload';
        vectorStore: { id: string; openaiId: string; name: string | null } | null;
      }
    | MutationErrorFields;
}

export const CREATE_STORE: TypedDocumentNode<CreateStoreData, { name: string }> = gql`
  mutation CreateStore($name: String!) {
    createVectorStore(input: { name: $name }) {
      __typename
      ... on CreateVectorStorePayload {
        vectorStore {
          id
          openaiId
          name
        }
      }
      ... on MutationError {
        message
      }
    }
  }
`;

export interface RenameStoreData {
  updateVectorStore:
    | { __typename: 'UpdateVectorStorePayload'; vectorStore: { id: string; name: string | null } | null }
    | MutationErrorFields;
}

/** Answers the store by `id`, so every cached list holding it shows the new name. */
export const RENAME_STORE: TypedDocumentNode<RenameStoreData, { id: string; name: string }> = gql`
  mutation RenameStore($id: ID!, $name: String!) {
    updateVectorStore(input: { id: $id, name: $name }) {
      __typename
      ... on UpdateVectorStorePayload {
        vectorStore {
          id
          name
        }
      }
      ... on MutationError {
        message
      }
    }
  }
`;

export interface UploadFilesData {
  uploadFiles:
    | {
        __typename: 'UploadFilesPayload';
        vectorStore: { id: string; fileCounts: FileCounts } | null;
        fileBatch: { id: string; status: FileBatchStatus } | null;
        files: Array<{ id: string; status: string; file: { filename: string; bytes: number } | null }> | null;
        failures: Array<{ index: number; filename: string | null; code: string; message: string }>;
      }
    | (MutationErrorFields & { __typename: 'InvalidInputError'; field: string })
    | MutationErrorFields;
}

export interface UploadFilesVariables {
  input: { vectorStoreId: string; files: Array<File | Blob>; sizes?: number[] };
}

/** `File`/`Blob` values anywhere in the variables make UploadHttpLink send a multipart request. */
export const UPLOAD_FILES: TypedDocumentNode<UploadFilesData, UploadFilesVariables> = gql`
  mutation UploadFiles($input: UploadFilesInput!) {
    uploadFiles(input: $input) {
      __typename
      ... on UploadFilesPayload {
        vectorStore {
          id
          fileCounts {
            inProgress
            completed
            failed
            cancelled
            total
          }
        }
        fileBatch {
          id
          status
        }
        files {
          id
          status
          file {
            filename
            bytes
          }
        }
        failures {
          index
          filename
          code
          message
        }
      }
      ... on InvalidInputError {
        field
      }
      ... on MutationError {
        message
      }
    }
  }
`;

export interface WatchBatchData {
  fileBatch: { __typename?: 'FileBatch'; id: string; status: FileBatchStatus; fileCounts: FileCounts };
}

/** Pushes the batch as its files are processed; the stream completes once the batch is final. */
export const WATCH_BATCH: TypedDocumentNode<WatchBatchData, { id: string }> = gql`
  subscription WatchBatch($id: ID!) {
    fileBatch(id: $id, deadlineSeconds: 60) {
      id
      status
      fileCounts {
        inProgress
        completed
        failed
        cancelled
        total
      }
    }
  }
`;
