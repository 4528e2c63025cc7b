/** What a dispatch carries: a step's notice to an address or number, or a letter's email to a recipient. */
export type DispatchPurpose = { kind: 'notice'; channel: 'email' | 'sms'; recipient: string } | { kind: 'letter-email'; recipientId: string };

/**
 * A dispatch's dedupe key: a rerun of the step finds the row under it and does not send again.
 * The formats are stored in every dispatch row, so they never change.
 */
export function dispatchKey(stepId: string, purpose: DispatchPurpose): string {
  return purpose.kind === 'notice' ? `${stepId}/${purpose.channel}/${purpose.recipient.toLowerCase()}` : `${stepId}/letter/${purpose.recipientId}/email`;
}
