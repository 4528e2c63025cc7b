/** What a payment pays: fixed charges (costs), the late fee (interest), the principal. */
export const ALLOCATION_PARTS = ['costs', 'interest', 'principal'] as const;
export type AllocationPart = (typeof ALLOCATION_PARTS)[number];

/** Costs, interest, principal: PRC Civil Code art. 561 and BGB § 367 unless the contract says otherwise. */
export const DEFAULT_ALLOCATION: readonly AllocationPart[] = ['costs', 'interest', 'principal'];

export function isAllocationOrder(parts: readonly string[]): parts is readonly AllocationPart[] {
  return parts.length === ALLOCATION_PARTS.length && ALLOCATION_PARTS.every((part) => parts.includes(part));
}
