import { type AllocationPart, DEFAULT_ALLOCATION } from './allocation';

/** What interrupts a limitation period so that it runs again in full. */
export const RESTART_CAUSES = ['demand-delivered', 'acknowledgment', 'part-payment', 'promise'] as const;
export type RestartCause = (typeof RESTART_CAUSES)[number];

/** The rules of one jurisdiction (ISO 3166 code) that letters and legal clocks follow. */
export interface JurisdictionRules {
  /** Null for a jurisdiction the table does not know. */
  code: string | null;
  limitation: {
    period: string;
    /** The period starts at the end of the year the claim fell due in (BGB § 199), not on the day. */
    fromYearEnd: boolean;
    restartedBy: readonly RestartCause[];
    law: string;
  };
  /** A deadline whose last day is not a working day ends on the next working day. */
  rollsDeadlines: { law: string } | null;
  /** The payment allocation order when the contract and the policy set none. */
  allocation: { order: readonly AllocationPart[]; law: string | null };
}

/** The jurisdictions the product knows (domain.md, "Law that letters must respect"). */
export const JURISDICTIONS: Readonly<Record<string, JurisdictionRules>> = {
  CN: {
    code: 'CN',
    limitation: {
      period: 'P3Y',
      fromYearEnd: false,
      // A demand that reaches the debtor, the debtor agreeing to perform (a promise, a part
      // payment, a signed notice: 法释〔1999〕7号), or a suit.
      restartedBy: ['demand-delivered', 'acknowledgment', 'part-payment', 'promise'],
      law: 'PRC Civil Code arts. 188, 195',
    },
    rollsDeadlines: { law: 'PRC Civil Code art. 203' },
    allocation: { order: DEFAULT_ALLOCATION, law: 'PRC Civil Code art. 561' },
  },
  DE: {
    code: 'DE',
    limitation: { period: 'P3Y', fromYearEnd: true, restartedBy: ['acknowledgment', 'part-payment'], law: 'BGB §§ 195, 199, 212' },
    rollsDeadlines: { law: 'BGB § 193' },
    allocation: { order: DEFAULT_ALLOCATION, law: 'BGB § 367' },
  },
  GB: {
    code: 'GB',
    // England and Wales: six years for contract debts; a signed written acknowledgment or a part payment restarts them.
    limitation: { period: 'P6Y', fromYearEnd: false, restartedBy: ['acknowledgment', 'part-payment'], law: 'Limitation Act 1980 ss. 5, 29' },
    rollsDeadlines: null,
    allocation: { order: DEFAULT_ALLOCATION, law: null },
  },
};

/**
 * The rules for a jurisdiction, with the operator's period if LIMITATION_PERIODS sets one. An
 * unknown jurisdiction gets `fallbackPeriod` and restarts on an acknowledgment only: the one cause
 * every legal system in the table accepts.
 */
export function rulesFor(jurisdiction: string | null, periods: Readonly<Record<string, string>>, fallbackPeriod: string): JurisdictionRules {
  const known = jurisdiction ? JURISDICTIONS[jurisdiction] : undefined;
  const period = (jurisdiction && periods[jurisdiction]) || known?.limitation.period || fallbackPeriod;
  if (known) return { ...known, limitation: { ...known.limitation, period } };
  return {
    code: null,
    limitation: {
      period,
      fromYearEnd: false,
      restartedBy: ['acknowledgment'],
      law: 'no rule known for this jurisdiction: restarted by an acknowledgment only',
    },
    rollsDeadlines: null,
    allocation: { order: DEFAULT_ALLOCATION, law: null },
  };
}

/** The jurisdiction's payment allocation order (the table's, else costs, interest, principal). */
export function allocationFor(jurisdiction: string | null): readonly AllocationPart[] {
  return (jurisdiction ? JURISDICTIONS[jurisdiction]?.allocation.order : undefined) ?? DEFAULT_ALLOCATION;
}
