import type { Context } from '../../context.ts';
import { pollsWithin } from '../../live/poller.ts';
import type { FileBatch } from '../../upstream/index.ts';
import { builder } from '../builder.ts';
import { InvalidInputError } from '../errors.ts';
import { encodeNestedId } from '../ids.ts';

/**
 * A mutation runs under the operation deadline (a minute by default), and its payload is read
 * after the wait: longer waits are what `Subscription.fileBatch` is for.
 */
export const MAX_WAIT_SECONDS = 30;

export type WaitOutcomeValue = 'finished' | 'still_in_progress';

export const WaitOutcome = builder.enumType('WaitOutcome', {
  description: 'How the wait for processing asked for with `waitSeconds` ended.',
  values: {
    FINISHED: {
      value: 'finished',
      description:
        'Every batch reached a final status (COMPLETED, CANCELLED or FAILED) in time: the counts returned are final.',
    },
    STILL_IN_PROGRESS: {
      value: 'still_in_progress',
      description:
        '`waitSeconds` ran out first: the counts returned are those of that moment. `Subscription.fileBatch` follows the rest.',
    },
  } as const,
});

export const WAIT_SECONDS_DESCRIPTION = `Wait up to this many seconds (1..${MAX_WAIT_SECONDS}) for the files to finish processing before answering; \`waitOutcome\` then says whether they did. Unset: answer as soon as the files are attached.`;

export const WAIT_OUTCOME_DESCRIPTION =
  'Whether processing finished within `waitSeconds`; null when the mutation was not asked to wait.';

/**
 * The most status reads waiting `waitSeconds` (as given, unchecked) for `batches` batches makes;
 * none for a value out of range, which is refused before any call.
 */
export function waitCalls(waitSeconds: unknown, batches: number): number {
  if (!Number.isInteger(waitSeconds) || (waitSeconds as number) < 1) return 0;
  if ((waitSeconds as number) > MAX_WAIT_SECONDS) return 0;
  return batches * pollsWithin((waitSeconds as number) * 1000);
}

/** `waitSeconds`, checked before anything is written; null means no wait. */
export function parseWaitSeconds(value: number | null | undefined, field: string): number | null {
  if (value == null) return null;
  if (!Number.isInteger(value) || value < 1 || value > MAX_WAIT_SECONDS) {
    throw new InvalidInputError(
      field,
      `\`${field}\` must be between 1 and ${MAX_WAIT_SECONDS}; got ${value}.`,
    );
  }
  return value;
}

/**
 * Waits, on the process-wide pollers (so a subscriber of the same batch adds no calls), until
 * every batch is terminal or the time is up. The batches answered are the latest states seen,
 * and the request's loader is primed with them, so the payload reads no batch again.
 */
export async function waitForBatches(
  context: Context,
  batches: readonly FileBatch[],
  waitSeconds: number | null,
): Promise<{ batches: FileBatch[]; waitOutcome: WaitOutcomeValue | null }> {
  if (waitSeconds === null) return { batches: [...batches], waitOutcome: null };
  const waited = await Promise.all(
    batches.map((batch) =>
      context.live.waitUntilTerminal(
        { kind: 'fileBatch', vectorStoreId: batch.vector_store_id, batchId: batch.id },
        { timeoutMs: waitSeconds * 1000, initial: batch },
      ),
    ),
  );
  for (const { value } of waited) {
    const key = encodeNestedId(value.vector_store_id, value.id);
    context.loaders.fileBatch.clear(key).prime(key, value);
  }
  // The store's counts and the files' states moved on while we waited.
  for (const batch of batches) context.loaders.vectorStore.clear(batch.vector_store_id);
  context.loaders.vectorStoreFile.clearAll();
  return {
    batches: waited.map(({ value }) => value),
    waitOutcome: waited.every(({ terminal }) => terminal) ? 'finished' : 'still_in_progress',
  };
}
