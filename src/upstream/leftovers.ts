/**
 * What a request has made upstream that no one else knows of yet: a File its client has not been
 * told of, an upload still open, a body going out to `POST /files`. A process undoes these itself
 * when the request fails (the mutations delete, a parted upload cancels). A process that dies
 * (SIGKILL, out of memory) cannot, so with several replicas (REDIS_URL) each one writes its
 * leftovers down in a log the others read, and the survivors undo a dead replica's
 * (src/replicas/leftovers.ts). One process alone keeps no log: nothing would read it.
 */
import type { FilePurpose } from './file-upload.ts';
import { type PacedCredential, sharedCredentialId } from './pacing.ts';

/** Enough to find a File by what was sent for it (Upstream.findSent): name, purpose, size, start. */
export interface SentFile {
  filename: string;
  purpose: FilePurpose;
  /** Epoch seconds when the upload began. */
  at: number;
  /** Known once every byte is out; a body cut before that made no File. */
  bytes?: number | undefined;
}

export type Leftover =
  | { kind: 'file'; fileId: string }
  /** An upload of the Uploads API, open until completed or cancelled; its File once completed. */
  | ({ kind: 'upload'; uploadId: string } & SentFile)
  /** A body streamed to `POST /files`: once whole, it may have become a File not yet seen. */
  | ({ kind: 'sending' } & SentFile);

/** A leftover as the log keeps it: whose credential (a digest, never the key) and what. */
export type LoggedLeftover = Leftover & { credential: string };

/** Where a replica writes its leftovers down (REDIS_URL); each entry under an id of its own. */
export interface LeftoverLog {
  /** Resolves once the entry is kept (or could not be: the upload goes on without it). */
  put(id: string, entry: LoggedLeftover): Promise<void>;
  remove(id: string): void;
}

/** What replicas share of leftovers: the log, and the sweep that undoes a dead replica's. */
export interface LeftoverSharing {
  log: LeftoverLog;
  /**
   * Starts looking for dead replicas; `undo` undoes one leftover: true once nothing of it is left,
   * false to try again later, null when this process does not hold its credential.
   */
  sweep(undo: (entry: LoggedLeftover) => Promise<boolean | null>): void;
}

/** One leftover of a request, while it lasts. */
export interface LeftoverNote {
  update(entry: Leftover): void;
  /** Undone, or handed over (the request is over): nothing more to undo. */
  drop(): void;
}

const NOTHING_NOTED: LeftoverNote = { update() {}, drop() {} };

/** Ids of notes, unique in the process (the log is the process's own). */
let nextNoteId = 0;

/** How long an upload waits for its note to be kept before it goes on without it. */
const PUT_WAIT_MS = 1_000;

/**
 * The leftovers of one scope (a request), noted in the log while they last; all dropped when the
 * request is over, since its client then knows of them or they were undone.
 */
export class LeftoverNotes {
  private readonly open = new Map<string, Leftover>();
  private readonly credentialId: string | undefined;

  constructor(
    private readonly log: LeftoverLog | undefined,
    credential: PacedCredential,
  ) {
    this.credentialId = log ? sharedCredentialId(credential) : undefined;
  }

  async note(entry: Leftover): Promise<LeftoverNote> {
    const { log, credentialId } = this;
    if (!log || credentialId === undefined) return NOTHING_NOTED;
    const id = (nextNoteId++).toString(36);
    const put = (next: Leftover) => {
      this.open.set(id, next);
      return log.put(id, { ...next, credential: credentialId });
    };
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      put(entry),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, PUT_WAIT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    return {
      update: (next) => {
        if (this.open.has(id)) void put(next);
      },
      drop: () => {
        if (this.open.delete(id)) log.remove(id);
      },
    };
  }

  /** A File deleted by the request itself is no leftover any more. */
  fileGone(fileId: string): void {
    for (const [id, entry] of this.open) {
      if (entry.kind === 'file' && entry.fileId === fileId) {
        this.open.delete(id);
        this.log?.remove(id);
      }
    }
  }

  /** The request is over. */
  dropAll(): void {
    for (const id of this.open.keys()) this.log?.remove(id);
    this.open.clear();
  }
}
