export const ESCALATION_TARGETS = ['collector', 'agency', 'legal'] as const;
export type EscalationTarget = (typeof ESCALATION_TARGETS)[number];

export const WORK_ITEM_KINDS = ['collector', 'legal'] as const;
export type WorkItemKind = (typeof WORK_ITEM_KINDS)[number];
export const WORK_ITEM_STATUSES = ['open', 'claimed', 'done'] as const;
export type WorkItemStatus = (typeof WORK_ITEM_STATUSES)[number];

/** What a person may report per kind of work item (the migration's CHECK says the same). */
export const OUTCOMES = {
  collector: ['contacted', 'promised', 'refused', 'unreachable', 'wrong-party'],
  legal: ['filed', 'settled', 'closed'],
} as const satisfies Record<WorkItemKind, readonly string[]>;
export type WorkItemOutcome = (typeof OUTCOMES)[WorkItemKind][number];
export const ALL_OUTCOMES = [...OUTCOMES.collector, ...OUTCOMES.legal] as const;
