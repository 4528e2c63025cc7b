/**
 * The provider accepted a message, and recording that failed for good (past OUTCOME_PATIENCE, or
 * an error no wait cures). The dispatch stays `sending`, so a retry finds the send in doubt rather
 * than sending it as new.
 */
export class SentButUnrecorded extends Error {
  constructor(
    readonly dispatchId: string,
    readonly messageId: string,
    cause: unknown,
  ) {
    super(`sent, but not recorded: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** Runs the recording of an accepted send; any failure of it is a SentButUnrecorded. */
export async function recordSent<T>(dispatch: { id: string; messageId: string }, record: () => Promise<T>): Promise<T> {
  try {
    return await record();
  } catch (error) {
    throw new SentButUnrecorded(dispatch.id, dispatch.messageId, error);
  }
}
