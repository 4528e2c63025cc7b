export const HOLD_KINDS = ['dispute', 'manual', 'promise', 'plan', 'cease-contact', 'deceased', 'bankrupt'] as const;
export type HoldKind = (typeof HOLD_KINDS)[number];

/**
 * What each hold does. Pausing holds put the case `on_hold`: no step runs until the last one is
 * released, and the ladder then resumes where it paused. `cease-contact` pauses nothing but
 * stops contact: notices are skipped and letters (legally required) go by post only.
 * `deceased` and `bankrupt` also hand the case to legal review (estate or insolvency handling).
 */
export const HOLD_EFFECTS: Record<HoldKind, 'pause' | 'no-contact'> = {
  dispute: 'pause',
  manual: 'pause',
  promise: 'pause',
  plan: 'pause',
  'cease-contact': 'no-contact',
  deceased: 'pause',
  bankrupt: 'pause',
};

export const PAUSING_HOLDS = HOLD_KINDS.filter((kind) => HOLD_EFFECTS[kind] === 'pause');

/** Holds that need people: the estate of a deceased debtor, or the insolvency administrator. */
export const LEGAL_HANDLING: Partial<Record<HoldKind, string>> = { deceased: 'estate handling', bankrupt: 'insolvency proceedings' };

/** Holds an operator may place or lift; promise and plan holds follow their promise or plan. */
export const OPERATOR_HOLD_KINDS = ['manual', 'dispute', 'cease-contact', 'deceased', 'bankrupt'] as const satisfies readonly HoldKind[];

/** The debtor flags that place their hold on every open case of the debtor. */
export const DEBTOR_FLAG_HOLDS = ['cease-contact', 'deceased', 'bankrupt'] as const satisfies readonly HoldKind[];
export type DebtorFlag = (typeof DEBTOR_FLAG_HOLDS)[number];
