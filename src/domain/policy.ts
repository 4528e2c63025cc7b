import { Duration } from 'luxon';
import { z } from 'zod';
import { ALLOCATION_PARTS, isAllocationOrder } from './allocation';
import { RATE_PATTERN } from './late-fee';
import { LETTER_TYPES } from './letter-fields';
import { isCalendarPeriod } from './legal-clocks';

export const CATCH_UP_RULES = ['from-first', 'latest'] as const;
export type CatchUp = (typeof CATCH_UP_RULES)[number];

/**
 * A send a crash interrupted may or may not have gone out: `hold` records it for an operator
 * (retrying the step's job sends it), `resend` sends it again at once with the same Message-ID,
 * so that mail systems can drop the copy.
 */
export const IN_DOUBT_RULES = ['hold', 'resend'] as const;
export type InDoubtRule = (typeof IN_DOUBT_RULES)[number];

export const calendarPeriod = z.string().refine(isCalendarPeriod, 'must be an ISO-8601 calendar period such as P10D');

const offset = z.string().refine((value) => Duration.fromISO(value).isValid, {
  message: 'must be an ISO-8601 duration such as P10D, PT30S or -P3D',
});
const positiveDuration = z.string().refine((value) => Duration.fromISO(value).isValid && Duration.fromISO(value).toMillis() > 0, {
  message: 'must be a positive ISO-8601 duration such as P10D',
});

/**
 * What must be true on the case's legal record before a step may act (domain/requirements.ts).
 * Termination and guarantor notices carry theirs by law whether or not the policy names them.
 */
export const stepRequirements = z.strictObject({
  /** A payment demand delivered to the debtor at least this long before (the cure period, PRC Civil Code art. 563(1)(3)). */
  demandDelivered: positiveDuration.optional(),
  /** The contract not terminated, nor its termination sent: for steps that warn of termination. */
  contractInForce: z.literal(true).optional(),
  /** A guarantee not lapsed (PRC Civil Code art. 693): for guarantor notices. */
  guaranteeInPeriod: z.literal(true).optional(),
});
export type StepRequirements = z.output<typeof stepRequirements>;

/** The order a payment pays costs, interest (late fees) and principal in: a permutation of the three. */
export const paymentAllocation = z
  .array(z.enum(ALLOCATION_PARTS))
  .refine(isAllocationOrder, `must name each of ${ALLOCATION_PARTS.join(', ')} once, in the order payments apply to them`);

const templateName = z.string().regex(/^[a-z0-9-]+$/, 'must be a template name in kebab-case');

const noticeStep = z.strictObject({
  at: offset,
  requires: stepRequirements.optional(),
  action: z.literal('notice'),
  channel: z.enum(['email', 'sms']),
  template: templateName,
  /** What a run does with this notice's send when a crash interrupted it; unset: `hold` for email, `resend` for SMS (the provider drops a repeated reference). */
  inDoubt: z.enum(IN_DOUBT_RULES).optional(),
  /**
   * An email notice whose address bounced for good or complained goes by SMS instead; unset, it
   * is skipped. A notice never goes by post: a letter is not a notice (use a letter step).
   */
  fallback: z.enum(['sms'], { error: 'must be sms: a notice cannot go by post (a letter is not a notice; use a letter step)' }).optional(),
  /** The SMS template of the fallback; the step's `template` when unset. Checked at load in every locale. */
  fallbackTemplate: templateName.optional(),
});
export const letterDelivery = z
  .array(z.enum(['email', 'post']))
  .min(1, 'must name at least one of email, post')
  .refine((channels) => new Set(channels).size === channels.length, 'must not name a channel twice');
export const letterDocuments = z.array(z.string().trim().min(1).max(200)).max(20);

const letterStep = z.strictObject({
  at: offset,
  requires: stepRequirements.optional(),
  action: z.literal('letter'),
  letter: z.enum(LETTER_TYPES),
  deliver: letterDelivery,
  /** How long the recipient has to pay (or supply documents) from the letter date; LETTER_DEADLINE by default. */
  deadline: calendarPeriod.optional(),
  /** Document request: what to supply. */
  documents: letterDocuments.optional(),
  /** What a run does with a letter's email when a crash interrupted its send; `hold` when unset. */
  inDoubt: z.enum(IN_DOUBT_RULES).optional(),
  /** A letter to go by email only whose debtor's address bounced for good or complained goes by post instead; unset, it is skipped. */
  fallback: z.enum(['post'], { error: 'must be post: a letter whose email cannot go is posted' }).optional(),
});
const escalateStep = z.strictObject({
  at: offset,
  requires: stepRequirements.optional(),
  action: z.literal('escalate'),
  to: z.enum(['collector', 'agency', 'legal']),
});
const feeStep = z.strictObject({
  at: offset,
  requires: stepRequirements.optional(),
  action: z.literal('fee'),
});
/** End of the ladder: the contract ends (without a letter), or the balance is written off and the case closes. */
const terminateStep = z.strictObject({ at: offset, requires: stepRequirements.optional(), action: z.literal('terminate-contract') });
const writeOffStep = z.strictObject({ at: offset, requires: stepRequirements.optional(), action: z.literal('write-off') });

export const policyStepSchema = z.discriminatedUnion('action', [noticeStep, letterStep, escalateStep, feeStep, terminateStep, writeOffStep]);

export const policySchema = z.strictObject({
  key: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a kebab-case key'),
  description: z.string().optional(),
  default: z.boolean().default(false),
  match: z.strictObject({ segment: z.array(z.string().min(1)).min(1) }).optional(),
  /**
   * A case opened with several steps already due: `from-first` runs the first now and the rest
   * with the ladder's own spacing from there; `latest` runs only the latest and skips the others.
   */
  catchUp: z.enum(CATCH_UP_RULES).default('from-first'),
  /** How payments apply when the contract states no order; the jurisdiction's default otherwise. */
  paymentAllocation: paymentAllocation.optional(),
  /** Late-fee terms for invoices that state no rate of their own, and the cap for all. */
  lateFee: z
    .strictObject({
      ratePerDay: z.string().regex(RATE_PATTERN, 'must be a decimal daily rate below 1, such as "0.0004"').optional(),
      capRatio: z
        .string()
        .regex(/^\d+(\.\d{1,8})?$/, 'must be a fraction of the principal, such as "0.2" for 20 %')
        .optional(),
    })
    .optional(),
  /** When a promise to pay is broken: an optional fixed fee in the case currency, then resume the ladder or escalate. */
  brokenPromise: z
    .strictObject({
      fee: z
        .string()
        .regex(/^(0|[1-9]\d{0,12})(\.\d{1,4})?$/, 'must be a decimal amount such as "25.00"')
        .optional(),
      then: z.enum(['resume', 'collector', 'agency', 'legal']).default('resume'),
    })
    .optional(),
  /** What a debtor may agree alone on the self-service page (domain/self-service.ts); unset parts take its defaults. */
  selfService: z
    .strictObject({
      /** A promise's date at the latest this long from today. */
      promiseWithin: calendarPeriod.optional(),
      /** At most this many monthly instalments; a plan of more goes to a collector. */
      planMaxInstalments: z.number().int('must be a whole number').min(2, 'must be at least 2').max(24, 'must be at most 24').optional(),
      /** The first instalment at the latest this long from today. */
      planStartsWithin: calendarPeriod.optional(),
    })
    .optional(),
  steps: z.array(policyStepSchema).min(1, 'a policy needs at least one step'),
});

export type PolicyStep = z.output<typeof policyStepSchema>;
export type PolicyDefinition = z.output<typeof policySchema>;

/** A policy as stored: a definition under a version the cases refer to. */
export interface PolicyVersion {
  id: string;
  key: string;
  version: number;
  definition: PolicyDefinition;
}
