import { Duration } from 'luxon';
import { z } from 'zod';
import { RATE_PATTERN } from './late-fee';
import { LETTER_TYPES } from './letter-fields';
import { isCalendarPeriod } from './legal-clocks';

export const calendarPeriod = z.string().refine(isCalendarPeriod, 'must be an ISO-8601 calendar period such as P10D');

const offset = z.string().refine((value) => Duration.fromISO(value).isValid, {
  message: 'must be an ISO-8601 duration such as P10D, PT30S or -P3D',
});

const noticeStep = z.strictObject({
  at: offset,
  action: z.literal('notice'),
  channel: z.enum(['email', 'sms']),
  template: z.string().regex(/^[a-z0-9-]+$/, 'must be a template name in kebab-case'),
});
export const letterDelivery = z
  .array(z.enum(['email', 'post']))
  .min(1, 'must name at least one of email, post')
  .refine((channels) => new Set(channels).size === channels.length, 'must not name a channel twice');
export const letterDocuments = z.array(z.string().trim().min(1).max(200)).max(20);

const letterStep = z.strictObject({
  at: offset,
  action: z.literal('letter'),
  letter: z.enum(LETTER_TYPES),
  deliver: letterDelivery,
  /** How long the recipient has to pay (or supply documents) from the letter date; LETTER_DEADLINE by default. */
  deadline: calendarPeriod.optional(),
  /** Document request: what to supply. */
  documents: letterDocuments.optional(),
});
const escalateStep = z.strictObject({
  at: offset,
  action: z.literal('escalate'),
  to: z.enum(['collector', 'agency', 'legal']),
});
const feeStep = z.strictObject({
  at: offset,
  action: z.literal('fee'),
});
/** End of the ladder: the contract ends (without a letter), or the balance is written off and the case closes. */
const terminateStep = z.strictObject({ at: offset, action: z.literal('terminate-contract') });
const writeOffStep = z.strictObject({ at: offset, action: z.literal('write-off') });

export const policyStepSchema = z.discriminatedUnion('action', [noticeStep, letterStep, escalateStep, feeStep, terminateStep, writeOffStep]);

export const policySchema = z.strictObject({
  key: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a kebab-case key'),
  description: z.string().optional(),
  default: z.boolean().default(false),
  match: z.strictObject({ segment: z.array(z.string().min(1)).min(1) }).optional(),
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
