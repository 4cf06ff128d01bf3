/**
 * What OpenAI's Vector Stores and Files API documents as its limits (the OpenAPI description in
 * vendor/openai, and its guides), defined once: the schema's validation, its descriptions, the
 * connection helper and the cost estimate all read them from here.
 */
export const OPENAI_LIMITS = {
  /** `limit` of the vector-store, store-file and batch-file lists. */
  listPage: { default: 20, max: 100 },
  /** `limit` of `GET /files`, which has no `before`. */
  filesListPage: { default: 10_000, max: 10_000 },
  /** `max_num_results` of a search. */
  searchResults: { default: 10, max: 50 },
  /** Files of one file batch. */
  batchFiles: 2000,
  /**
   * Attach writes to one vector store a minute: `POST /vector_stores/{id}/files` and
   * `/file_batches` together (the spec's rate-limit note on the attach endpoint).
   */
  storeWritesPerMinute: 300,
  /** `file_ids` when creating a store. */
  createStoreFileIds: 500,
  /** Metadata and attributes: pairs, key length, string value length. */
  pairs: { max: 16, keyLength: 64, stringValueLength: 512 },
  /** A store's `expires_after.days`; the only anchor is `last_active_at`. */
  storeExpiryDays: { min: 1, max: 365 },
  /** A static chunking strategy's chunk size (tokens), and what `auto` means. */
  chunking: { size: { min: 100, max: 4096 }, auto: { size: 800, overlap: 400 } },
  /** A search's `ranking_options.score_threshold`. */
  scoreThreshold: { min: 0, max: 1 },
  /** One file through `POST /files`. */
  fileBytes: 512 * 1024 * 1024,
  /**
   * The Uploads API (`POST /uploads`, then parts): at most 8 GB in all and 64 MB a part (the
   * spec's words for both). Read as binary units, as `fileBytes` is; nothing says which OpenAI
   * means, and the emulator enforces the same figures.
   */
  upload: { bytes: 8 * 1024 ** 3, partBytes: 64 * 1024 ** 2 },
  /** A File's `expires_after.seconds` (anchor `created_at`), on `/files` and `/uploads` alike. */
  fileExpirySeconds: { min: 3600, max: 2_592_000 },
} as const;
