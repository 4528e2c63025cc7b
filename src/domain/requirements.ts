import { localDate, localDayEnd } from './calendar';
import { addPeriod } from './legal-clocks';
import type { LegalRecord, LetterRecord } from './legal-record';
import { stepDueAt } from './ladder';
import type { PolicyStep, StepRequirements } from './policy';

/** The cure period after a delivered payment demand when the policy names none. */
export const DEFAULT_CURE_PERIOD = 'P10D';
/** How long a sent demand may stay undelivered (the post not yet tracked) before a step waiting on it gives up. */
export const DELIVERY_WAIT = 'P30D';
/** How often a step waiting for a delivery looks again, at most: a shorter cure period looks again sooner. */
export const DELIVERY_RECHECK = 'P1D';

/**
 * A step's requirements: the policy's own, plus what the law asks of its kind whatever the policy
 * says. A termination needs a demand delivered a cure period before and a contract still in
 * force (PRC Civil Code art. 563(1)(3)); a guarantor notice needs a guarantee in its period.
 */
export function requirementsOf(step: PolicyStep): StepRequirements {
  const own = step.requires ?? {};
  const terminates = step.action === 'terminate-contract' || (step.action === 'letter' && step.letter === 'contract-termination');
  if (terminates) return { ...own, demandDelivered: own.demandDelivered ?? DEFAULT_CURE_PERIOD, contractInForce: true };
  if (step.action === 'letter' && step.letter === 'guarantor-notice') return { ...own, guaranteeInPeriod: true };
  return own;
}

export const hasRequirements = (requirements: StepRequirements): boolean => Object.keys(requirements).length > 0;

export type RequirementVerdict = { kind: 'met' } | { kind: 'skip'; reason: string } | { kind: 'wait'; until: Date; reason: string };

/**
 * Whether the record allows the step now; a verdict that is not `met` names the reason for the
 * step's touch. `demandPlanned`: a payment demand is still to come on the case (its step has not
 * finished), so a termination waits for it rather than being dropped.
 */
export function checkRequirements(requirements: StepRequirements, record: LegalRecord, now: Date, timezone: string, demandPlanned = false): RequirementVerdict {
  if (requirements.contractInForce) {
    const { contract } = record;
    if (contract.status !== 'in-force') {
      const by = contract.terminatedBy && 'number' in contract.terminatedBy ? `by letter ${contract.terminatedBy.number} ` : '';
      const state =
        contract.status === 'terminated'
          ? `was terminated ${by}with effect from ${contract.effectiveOn}`
          : `termination was sent ${by}on ${contract.declaredOn}`;
      return { kind: 'skip', reason: `the contract ${state}` };
    }
  }
  if (requirements.guaranteeInPeriod && record.guarantees.length > 0 && record.guarantees.every((g) => g.status === 'lapsed')) {
    return { kind: 'skip', reason: `every guarantee has lapsed (the last period ended on ${[...record.guarantees].sort(byEnd).at(-1)!.endsOn})` };
  }
  if (requirements.demandDelivered) return demandVerdict(requirements.demandDelivered, record.demands.letters, now, timezone, demandPlanned);
  return { kind: 'met' };
}

const byEnd = (a: { endsOn: string }, b: { endsOn: string }) => (a.endsOn < b.endsOn ? -1 : 1);

/**
 * The cure period runs from the demand's delivery, and never ends before the deadline the demand
 * itself gave (the debtor has until the end of that day): a termination cannot cut short the
 * time the creditor granted.
 */
function cureEnds(demand: LetterRecord, cure: string, timezone: string): Date {
  const byPeriod = stepDueAt(demand.deliveredAt!, cure, timezone);
  const byDeadline = demand.deadline ? localDayEnd(demand.deadline, timezone) : byPeriod;
  return byDeadline > byPeriod ? byDeadline : byPeriod;
}

function demandVerdict(cure: string, demands: readonly LetterRecord[], now: Date, timezone: string, demandPlanned: boolean): RequirementVerdict {
  const recheck = () => [stepDueAt(now, DELIVERY_RECHECK, timezone), stepDueAt(now, cure, timezone)].sort((a, b) => a.getTime() - b.getTime())[0]!;
  const delivered = demands.filter((d) => d.deliveredAt !== null);
  if (delivered.length > 0) {
    const cured = delivered.map((d) => ({ letter: d, from: cureEnds(d, cure, timezone) })).sort((a, b) => a.from.getTime() - b.from.getTime())[0]!;
    if (cured.from <= now) return { kind: 'met' };
    return {
      kind: 'wait',
      until: cured.from,
      reason: `the cure period after payment demand ${cured.letter.number} (delivered on ${cured.letter.deliveredOn}) runs until ${cured.from.toISOString()}`,
    };
  }
  const today = localDate(now, timezone);
  const pending = demands.find((d) => !d.returned && addPeriod(d.sentOn, DELIVERY_WAIT) >= today);
  if (pending) return { kind: 'wait', until: recheck(), reason: `payment demand ${pending.number} is not yet delivered` };
  if (demandPlanned) return { kind: 'wait', until: recheck(), reason: 'the payment demand on this case has not gone out yet' };
  if (demands.length > 0)
    return {
      kind: 'skip',
      reason: `no payment demand reached the debtor (${demands.map((d) => `${d.number}${d.returned ? ' returned' : ' not delivered'}`).join(', ')})`,
    };
  return { kind: 'skip', reason: 'no payment demand has been delivered to the debtor' };
}
