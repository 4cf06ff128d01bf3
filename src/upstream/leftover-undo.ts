/**
 * How a survivor undoes a dead replica's leftovers (leftovers.ts), with its own client of the
 * same credential.
 */
import type { UpstreamClients, UpstreamPolicy } from './client.ts';
import { UpstreamError } from './errors.ts';
import type { Leftover, LoggedLeftover, SentFile } from './leftovers.ts';
import { sharedCredentialId } from './pacing.ts';
import { Upstream, type UpstreamCall } from './upstream.ts';

/** Answers of a cancel that mean the upload is no longer open (completed, expired or gone). */
const NOT_OPEN: ReadonlySet<string> = new Set(['UPSTREAM_REJECTED', 'NOT_FOUND']);

/**
 * Undoes a dead replica's leftover with this process's client of the same credential: true once
 * nothing of it is left upstream, false to try again later, null when this process does not hold
 * the credential (another replica may). Each call is reported like a poller's.
 */
export function leftoverUndo(
  clients: UpstreamClients,
  policy: UpstreamPolicy,
  onCall: (call: UpstreamCall, credential: string) => void,
): (entry: LoggedLeftover) => Promise<boolean | null> {
  const byCredential = new Map(
    clients.names.map((name) => [sharedCredentialId(clients.named(name).credential), name]),
  );
  return async (entry) => {
    const name = byCredential.get(entry.credential);
    if (name === undefined) return null;
    const upstream = new Upstream(clients.named(name), policy, { onCall: (call) => onCall(call, name) });
    try {
      await undo(upstream, entry);
      return true;
    } catch {
      return false;
    }
  };
}

async function undo(upstream: Upstream, entry: Leftover): Promise<void> {
  switch (entry.kind) {
    case 'file':
      return deleteIfThere(upstream, entry.fileId);
    case 'upload':
      try {
        await upstream.cancelUpload(entry.uploadId);
        return;
      } catch (error) {
        if (!(error instanceof UpstreamError && NOT_OPEN.has(error.code))) throw error;
      }
      // Completed before its replica died, but its answer was never seen: its File is the one.
      return deleteSent(upstream, entry);
    case 'sending':
      return deleteSent(upstream, entry);
  }
}

async function deleteSent(upstream: Upstream, sent: SentFile): Promise<void> {
  if (sent.bytes === undefined) return;
  const found = await upstream.findSent(sent.filename, sent.purpose, { bytes: sent.bytes, at: sent.at });
  if (found) await deleteIfThere(upstream, found.id);
}

async function deleteIfThere(upstream: Upstream, fileId: string): Promise<void> {
  try {
    await upstream.deleteFile(fileId);
  } catch (error) {
    if (!(error instanceof UpstreamError && error.code === 'NOT_FOUND')) throw error;
  }
}
