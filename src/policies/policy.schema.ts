import { Duration } from 'luxon';
import { z } from 'zod';

const offset = z.string().refine((value) => Duration.fromISO(value).isValid, {
  message: 'must be an ISO-8601 duration such as P10D, PT30S or -P3D',
});

const noticeStep = z.strictObject({
  at: offset,
  action: z.literal('notice'),
  channel: z.enum(['email', 'sms']),
  template: z.string().regex(/^[a-z0-9-]+$/, 'must be a template name in kebab-case'),
});
const letterStep = z.strictObject({
  at: offset,
  action: z.literal('letter'),
  letter: z.enum(['payment-demand', 'contract-termination', 'document-request', 'guarantor-notice']),
  deliver: z.array(z.enum(['email', 'post'])).min(1),
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

export const policyStepSchema = z.discriminatedUnion('action', [noticeStep, letterStep, escalateStep, feeStep]);

export const policySchema = z.strictObject({
  key: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a kebab-case key'),
  description: z.string().optional(),
  default: z.boolean().default(false),
  match: z.strictObject({ segment: z.array(z.string().min(1)).min(1) }).optional(),
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
