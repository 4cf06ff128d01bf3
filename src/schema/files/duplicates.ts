import type { Context } from '../../context.ts';
import type { ReceivedFile } from '../../uploads/receive.ts';
import { type SpooledFile, spool } from '../../uploads/spool.ts';
import { sentFilename, type VectorStoreFile } from '../../upstream/index.ts';
import { builder } from '../builder.ts';
import { InvalidInputError } from '../errors.ts';
import { fileReads } from '../files/loaders.ts';
import { encodeGlobalId } from '../ids.ts';
import { VectorStoreFileRef } from '../vector-store-files/types.ts';
import { readWholeList, wholeListCalls } from '../vector-store-files/whole-list.ts';

/**
 * Not uploading what a store already holds. The store's files are read whole before any file is
 * streamed, so a store is checked only up to this many files (its pages are priced up front).
 */
export const MAX_DUPLICATE_CHECK_FILES = 2000;

/**
 * The attribute a file uploaded with `SAME_CONTENT` carries: the SHA-256 of its bytes, since
 * OpenAI keeps no hash of its own and does not serve the content of files for search. Files
 * that came another way lack it and never match by content.
 */
export const CONTENT_HASH_ATTRIBUTE = 'content_sha256';

export type DuplicateCheckValue = 'SAME_NAME_AND_SIZE' | 'SAME_CONTENT';

export const DuplicateCheck = builder.enumType('DuplicateCheck', {
  description: `How an upload recognises a file the store already holds, to answer it as already present and upload nothing (stores of up to ${MAX_DUPLICATE_CHECK_FILES} files). A copy whose processing failed or was cancelled does not count; files repeated within one request are not compared with each other.`,
  values: {
    SAME_NAME_AND_SIZE: {
      description:
        'A file of the store with the same name and size. A file whose name matches is read whole (to local disk) before anything is sent, to learn its size.',
    },
    SAME_CONTENT: {
      description: `A file of the store with the same bytes: each file is read whole (to local disk) and hashed before anything is sent, and is uploaded with the attribute \`${CONTENT_HASH_ATTRIBUTE}\` so later uploads find it.`,
    },
  } as const,
});

/** The calls a check makes before the uploads: the store's pages, and the files' names and sizes. */
export function duplicateCheckCalls(check: unknown): number {
  if (check !== 'SAME_NAME_AND_SIZE' && check !== 'SAME_CONTENT') return 0;
  const pages = wholeListCalls(MAX_DUPLICATE_CHECK_FILES);
  return check === 'SAME_NAME_AND_SIZE' ? pages + fileReads(MAX_DUPLICATE_CHECK_FILES) : pages;
}

export interface AlreadyPresentShape {
  index: number;
  filename: string;
  existing: VectorStoreFile;
}

export const AlreadyPresentFile = builder.objectRef<AlreadyPresentShape>('AlreadyPresentFile').implement({
  description: 'A file of the request that the store already held, so nothing of it was uploaded.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Its position in `files`.' }),
    filename: t.exposeString('filename', { description: 'The name the client gave it.' }),
    vectorStoreFile: t.field({
      type: VectorStoreFileRef,
      description: 'The copy the store already holds, as it was when the store was read.',
      resolve: (present) => present.existing,
    }),
    fileId: t.id({
      description: "The existing File's global id.",
      resolve: (present) => encodeGlobalId('File', present.existing.id),
    }),
    openaiFileId: t.string({
      description: 'The existing File’s raw OpenAI id (file-...).',
      resolve: (present) => present.existing.id,
    }),
  }),
});

/** What to do with one received file: nothing (the store has it), or upload these bytes. */
export type Decision =
  | { present: VectorStoreFile }
  | {
      present?: undefined;
      file: ReceivedFile;
      /** Attributes only this file gets (its content hash). */
      attributes?: Record<string, string>;
      /** Frees what deciding took (a spooled copy); called once the upload is over. */
      release(): Promise<void>;
    };

export interface DuplicateFinder {
  decide(received: ReceivedFile): Promise<Decision>;
}

const NOTHING_HELD = async () => {};

/**
 * Reads the store whole (refusing, before any upload, a store too large to check) and answers,
 * file by file, whether it already holds a copy.
 */
export async function duplicateFinder(
  context: Context,
  vectorStoreId: string,
  check: DuplicateCheckValue,
): Promise<DuplicateFinder> {
  const listed = await readWholeList(context, vectorStoreId, MAX_DUPLICATE_CHECK_FILES);
  if (!listed) {
    throw new InvalidInputError(
      'input.duplicates',
      `Duplicate detection reads the whole store, and this one holds more than ${MAX_DUPLICATE_CHECK_FILES} files; nothing was uploaded.`,
    );
  }
  const usable = listed.filter((file) => file.status === 'completed' || file.status === 'in_progress');
  return check === 'SAME_CONTENT' ? byContent(usable) : byNameAndSize(context, usable);
}

function byContent(files: readonly VectorStoreFile[]): DuplicateFinder {
  const byHash = new Map<string, VectorStoreFile>();
  for (const file of files) {
    const hash = file.attributes?.[CONTENT_HASH_ATTRIBUTE];
    if (typeof hash === 'string' && !byHash.has(hash)) byHash.set(hash, file);
  }
  return {
    async decide(received) {
      const spooled = await spool(received.body);
      const present = byHash.get(spooled.sha256);
      if (present) {
        await spooled.dispose();
        return { present };
      }
      return {
        ...fromSpool(received, spooled),
        attributes: { [CONTENT_HASH_ATTRIBUTE]: spooled.sha256 },
      };
    },
  };
}

async function byNameAndSize(context: Context, files: readonly VectorStoreFile[]): Promise<DuplicateFinder> {
  const details = await context.loaders.file.loadMany(files.map((file) => file.id));
  const byName = new Map<string, Array<{ bytes: number; file: VectorStoreFile }>>();
  details.forEach((detail, i) => {
    // A File that is gone (or could not be read) is no copy to point at.
    if (!detail || detail instanceof Error) return;
    const copies = byName.get(detail.filename) ?? [];
    copies.push({ bytes: detail.bytes, file: files[i]! });
    byName.set(detail.filename, copies);
  });
  return {
    async decide(received) {
      // Compared as OpenAI would store the name.
      const copies = byName.get(sentFilename(received.filename));
      if (!copies) return { file: received, release: NOTHING_HELD };
      const spooled = await spool(received.body);
      const present = copies.find((copy) => copy.bytes === spooled.bytes);
      if (present) {
        await spooled.dispose();
        return { present: present.file };
      }
      return fromSpool(received, spooled);
    },
  };
}

function fromSpool(received: ReceivedFile, spooled: SpooledFile): Decision {
  return { file: { ...received, body: spooled.open() }, release: spooled.dispose };
}
