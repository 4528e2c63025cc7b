import { z } from 'zod';
import { DECIMAL_PATTERN, isCurrency, toMinorUnits } from '../domain/money';
import { LETTER_TYPES } from '../domain/letter-fields';

export const BATCH_KINDS = ['dunning-run', 'letters', 'terminations'] as const;
export type BatchKind = (typeof BATCH_KINDS)[number];

const days = z.number().int('must be a whole number of days').min(0, 'must not be negative').max(36500);

export const batchRequest = z
  .strictObject({
    kind: z.enum(BATCH_KINDS, { error: `must be one of ${BATCH_KINDS.join(', ')}` }),
    /** The day the batch looks at: days past due and (for a dunning run) steps due by its end. */
    asOf: z.iso.date('must be a date (YYYY-MM-DD)'),
    filter: z
      .strictObject({
        minDaysPastDue: days.optional(),
        maxDaysPastDue: days.optional(),
        segment: z.string().trim().min(1).max(50).optional(),
        currency: z.string().refine(isCurrency, 'must be an ISO 4217 currency code such as EUR').optional(),
        minAmount: z.string().regex(DECIMAL_PATTERN, 'must be a decimal string such as "100.00"').optional(),
      })
      .default({}),
    letterType: z.enum(LETTER_TYPES, { error: `must be one of ${LETTER_TYPES.join(', ')}` }).optional(),
    dryRun: z.boolean().default(false),
  })
  .superRefine((body, ctx) => {
    if (body.kind === 'letters' && !body.letterType) ctx.addIssue({ code: 'custom', path: ['letterType'], message: 'is required for a letters batch' });
    if (body.kind !== 'letters' && body.letterType)
      ctx.addIssue({ code: 'custom', path: ['letterType'], message: `goes only with kind letters (terminations send contract-termination)` });
    const { minDaysPastDue, maxDaysPastDue, minAmount, currency } = body.filter;
    if (minDaysPastDue !== undefined && maxDaysPastDue !== undefined && minDaysPastDue > maxDaysPastDue) {
      ctx.addIssue({ code: 'custom', path: ['filter', 'maxDaysPastDue'], message: 'must not be below minDaysPastDue' });
    }
    // An amount means something only in a currency.
    if (minAmount !== undefined && !currency) ctx.addIssue({ code: 'custom', path: ['filter', 'minAmount'], message: 'needs filter.currency' });
    if (minAmount !== undefined && currency && isCurrency(currency) && toMinorUnits(minAmount, currency) === null) {
      ctx.addIssue({ code: 'custom', path: ['filter', 'minAmount'], message: `has more decimals than ${currency} allows` });
    }
  });

export type BatchRequest = z.output<typeof batchRequest>;

/** The Idempotency-Key header: the client's name for this request. */
export const idempotencyKey = z
  .string({ error: 'is required: a unique key per batch request, such as a UUID' })
  .min(1, 'is required: a unique key per batch request, such as a UUID')
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export const ITEM_STATUSES = ['pending', 'done', 'failed', 'skipped', 'cancelled'] as const;
