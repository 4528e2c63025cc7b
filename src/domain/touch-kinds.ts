/** The closed list of touch kinds (design.md vocabulary); extend, never rename. */
export const TOUCH_KINDS = [
  'event.received',
  'case.opened',
  'step.scheduled',
  'step.deferred',
  'step.skipped',
  'step.cancelled',
  'notice.sent',
  'notice.failed',
  'notice.in_doubt',
  'payment.applied',
  'case.resolved',
  'case.cancelled',
  'hold.placed',
  'hold.released',
  'letter.sent',
  'letter.failed',
  'letter.in_doubt',
  'letter.posted',
  'letter.delivered',
  'letter.returned',
  'fee.assessed',
  'fee.adjusted',
  'contract.terminated',
  'limitation.restarted',
  'limitation.expiring',
  'guarantee.expiring',
  'escalation.created',
  'debtor.updated',
  'promise.recorded',
  'promise.kept',
  'promise.broken',
  'plan.agreed',
  'plan.kept',
  'plan.broken',
  'work-item.claimed',
  'work-item.completed',
  'agency.placed',
  'agency.notified',
  'case.written_off',
  'notice.delivered',
  'job.retried',
  'batch.included',
  'job.promoted',
  'job.removed',
  'contact.recorded',
  'qa.scored',
  'qa.finding.reviewed',
  'qa.finding.appealed',
  'experiment.assigned',
] as const;

export type TouchKind = (typeof TOUCH_KINDS)[number];

export interface TouchInput {
  kind: TouchKind;
  actor: string;
  channel?: string | null;
  data: Record<string, unknown>;
}
