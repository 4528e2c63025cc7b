import { DateTime, Duration } from 'luxon';
import { z } from 'zod';
import { DECIMAL_PATTERN, isCurrency, toMinorUnits } from './money';
import { isStorable, UNSTORABLE_REASON } from './text';
import { isTimeZone } from './time-zones';
import { RATE_PATTERN } from './late-fee';
import { GUARANTEE_TYPES, isCalendarPeriod } from './legal-clocks';
import { paymentAllocation } from './policy';

export const EVENT_TYPES = [
  'invoice.overdue',
  'payment.received',
  'invoice.cancelled',
  'dispute.opened',
  'dispute.resolved',
  'acknowledgment.signed',
  'debtor.updated',
  'promise.made',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const MAX_EVENTS_PER_REQUEST = 1000;

const text = (max = 200) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`).refine(isStorable, UNSTORABLE_REASON);
const addressLine = z.string().max(300).refine(isStorable, UNSTORABLE_REASON);
const addressSchema = z.record(z.string().max(50).refine(isStorable, UNSTORABLE_REASON), addressLine);

/** Years a date or instant in an event may fall in: beyond them it is a typing error, and PostgreSQL or luxon would choke. */
export const SANE_YEARS = { from: 1900, to: 2200 } as const;
const saneYear = (value: string) => /^\d{4}-/.test(value) && Number(value.slice(0, 4)) >= SANE_YEARS.from && Number(value.slice(0, 4)) <= SANE_YEARS.to;
const SANE_YEARS_MESSAGE = `must fall in the years ${SANE_YEARS.from} to ${SANE_YEARS.to}`;
/** The largest amount a bigint column holds, in minor units. */
const MAX_MINOR = 9_223_372_036_854_775_807n;
const externalId = text(200);
// The descriptions and examples (`meta`) are for the OpenAPI document; they change no validation.
const currency = z.string().refine(isCurrency, 'must be an ISO 4217 currency code such as EUR').meta({ description: 'ISO 4217 currency code', example: 'EUR' });
const amount = z
  .string({ error: 'must be a decimal string such as "1250.00"' })
  .regex(DECIMAL_PATTERN, 'must be a positive decimal string such as "1250.00"')
  .meta({ description: 'Decimal string in major units, at most the decimals the currency allows', example: '1250.00' });

const instant = z
  .string()
  .refine((value) => {
    const parsed = DateTime.fromISO(value, { setZone: true });
    return parsed.isValid && /T\d{2}:\d{2}/.test(value) && /(Z|[+-]\d{2}:?\d{2})$/.test(value);
  }, 'must be an ISO-8601 instant with a time zone offset, such as 2026-11-01T00:00:00Z')
  .refine(saneYear, SANE_YEARS_MESSAGE)
  .meta({ description: 'ISO-8601 instant with an offset', example: '2026-11-01T00:00:00Z' });

const calendarDate = z
  .string()
  .refine((value) => /^\d{4}-\d{2}-\d{2}$/.test(value) && DateTime.fromISO(value).isValid, 'must be a real calendar date (YYYY-MM-DD)')
  .refine(saneYear, SANE_YEARS_MESSAGE)
  .meta({ description: 'Calendar date (YYYY-MM-DD)', example: '2026-10-31' });

const calendarDateOrInstant = z
  .string()
  .refine((value) => {
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return DateTime.fromISO(value).isValid;
    return DateTime.fromISO(value, { setZone: true }).isValid && /(Z|[+-]\d{2}:?\d{2})$/.test(value);
  }, 'must be a real calendar date (YYYY-MM-DD) or an ISO-8601 instant with an offset')
  .refine(saneYear, SANE_YEARS_MESSAGE)
  .meta({ description: 'Calendar date (YYYY-MM-DD) or ISO-8601 instant with an offset', example: '2026-10-31' });

/** Checks that an amount has no more decimals than its currency allows and is above zero. */
function checkAmount(ctx: z.RefinementCtx, value: string, code: string, path: (string | number)[]): void {
  if (!isCurrency(code)) return;
  const minor = toMinorUnits(value, code);
  if (minor === null) ctx.addIssue({ code: 'custom', path, message: `has more decimals than ${code} allows` });
  else if (minor <= 0n) ctx.addIssue({ code: 'custom', path, message: 'must be greater than zero' });
  else if (minor > MAX_MINOR) ctx.addIssue({ code: 'custom', path, message: `is more than the service can hold in ${code}` });
}

export const debtorSchema = z.strictObject({
  externalId,
  name: text(300),
  email: z.email('must be an email address').optional(),
  phone: z
    .string()
    .regex(/^\+?[0-9 ()-]{5,20}$/, 'must be a phone number such as +4915112345678')
    .optional(),
  address: addressSchema.optional(),
  locale: z
    .string()
    .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, 'must be a BCP-47 language tag such as en or zh-CN')
    .optional(),
  timezone: z.string().refine(isTimeZone, 'must be an IANA time zone that PostgreSQL knows, such as Europe/Berlin').optional(),
});

export const invoiceOverdueData = z
  .strictObject({
    invoice: z.strictObject({
      externalId,
      contractRef: text(200).optional(),
      currency,
      amountDue: amount,
      dueDate: calendarDateOrInstant,
      contractDate: calendarDate.optional(),
      lateFeeRatePerDay: z.string().regex(RATE_PATTERN, 'must be a decimal daily rate below 1, such as "0.0004"').optional(),
      /** The contract's order for applying payments to costs, interest and principal (else the policy's, else the jurisdiction's). */
      paymentAllocation: paymentAllocation.optional(),
      /** Whose law sets the limitation period (ISO 3166 country); the debtor's address country otherwise. */
      jurisdiction: z
        .string()
        .regex(/^[A-Z]{2}$/, 'must be an ISO 3166 country code such as CN')
        .optional(),
    }),
    debtor: debtorSchema,
    guarantors: z
      .array(
        z.strictObject({
          externalId,
          name: text(300),
          email: z.email('must be an email address').optional(),
          address: addressSchema.optional(),
          /** The agreed guarantee period, if not GUARANTEE_PERIOD after the due date. */
          guaranteePeriod: z
            .string()
            .refine(isCalendarPeriod, 'must be an ISO-8601 calendar period such as P6M')
            .refine((period) => Duration.fromISO(period).as('years') <= 100, 'must be at most 100 years')
            .optional(),
          /** 一般保证 (general) unless the contract states 连带责任保证 (joint liability), as PRC Civil Code art. 686(2) presumes. */
          guaranteeType: z.enum(GUARANTEE_TYPES, { error: `must be one of ${GUARANTEE_TYPES.join(', ')}` }).default('general'),
        }),
      )
      .max(20)
      .refine((list) => new Set(list.map((g) => g.externalId)).size === list.length, 'must not name a guarantor twice')
      .optional(),
    policy: text(100).optional(),
    segment: text(50).optional(),
  })
  .superRefine((data, ctx) => checkAmount(ctx, data.invoice.amountDue, data.invoice.currency, ['invoice', 'amountDue']));

export const paymentReceivedData = z
  .strictObject({ invoiceExternalId: externalId, paymentId: externalId, amount, currency, paidAt: instant })
  .superRefine((data, ctx) => checkAmount(ctx, data.amount, data.currency, ['amount']));

export const invoiceCancelledData = z.strictObject({ invoiceExternalId: externalId, reason: text(1000) });
export const disputeData = z.strictObject({ invoiceExternalId: externalId, reason: text(1000) });

/** Contact details to replace, and the flags that place or lift holds on the debtor's open cases. */
export const debtorUpdatedData = z.strictObject({
  debtor: debtorSchema
    .partial()
    .extend({
      externalId,
      ceaseContact: z.boolean().optional(),
      deceased: z.boolean().optional(),
      bankrupt: z.boolean().optional(),
      wilful: z.boolean().optional(),
    })
    .refine((debtor) => Object.keys(debtor).length > 1, 'must name at least one field to change besides externalId'),
});

export const promiseMadeData = z
  .strictObject({ invoiceExternalId: externalId, amount, currency: currency.optional(), dueDate: calendarDate })
  .superRefine((data, ctx) => {
    if (data.currency) checkAmount(ctx, data.amount, data.currency, ['amount']);
  });

export const acknowledgmentData = z.strictObject({ invoiceExternalId: externalId, signedAt: instant });

export const dataSchemas = {
  'invoice.overdue': invoiceOverdueData,
  'payment.received': paymentReceivedData,
  'invoice.cancelled': invoiceCancelledData,
  'dispute.opened': disputeData,
  'dispute.resolved': disputeData,
  'acknowledgment.signed': acknowledgmentData,
  'debtor.updated': debtorUpdatedData,
  'promise.made': promiseMadeData,
} satisfies Record<EventType, z.ZodType>;

export const envelopeSchema = z.strictObject({
  id: z
    .string()
    .min(1, 'must not be empty')
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
  type: z.string(),
  occurredAt: instant,
  data: z.record(z.string(), z.unknown(), { error: 'must be an object' }),
});

/** Each event type's `data`. */
export type EventData = { [T in EventType]: z.output<(typeof dataSchemas)[T]> };

export type InvoiceOverdue = z.output<typeof invoiceOverdueData>;
export type PaymentReceived = z.output<typeof paymentReceivedData>;
export type InvoiceCancelled = z.output<typeof invoiceCancelledData>;
export type DisputeEvent = z.output<typeof disputeData>;
export type AcknowledgmentSigned = z.output<typeof acknowledgmentData>;
export type DebtorUpdated = z.output<typeof debtorUpdatedData>;
export type PromiseMade = z.output<typeof promiseMadeData>;

export type DunningEvent =
  | { id: string; type: 'invoice.overdue'; occurredAt: string; data: InvoiceOverdue }
  | { id: string; type: 'payment.received'; occurredAt: string; data: PaymentReceived }
  | { id: string; type: 'invoice.cancelled'; occurredAt: string; data: InvoiceCancelled }
  | { id: string; type: 'dispute.opened' | 'dispute.resolved'; occurredAt: string; data: DisputeEvent }
  | { id: string; type: 'acknowledgment.signed'; occurredAt: string; data: AcknowledgmentSigned }
  | { id: string; type: 'debtor.updated'; occurredAt: string; data: DebtorUpdated }
  | { id: string; type: 'promise.made'; occurredAt: string; data: PromiseMade };

/** How far ahead of our clock an instant may be before it is taken as a mistake rather than clock skew. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** An instant beyond the clock skew, named for the 400: the field and why. */
export function futureInstant(field: string, value: string, now: Date): { field: string; reason: string } | null {
  return new Date(value).getTime() - now.getTime() > MAX_CLOCK_SKEW_MS ? { field, reason: `must not be in the future (now is ${now.toISOString()})` } : null;
}

/**
 * The facts an event reports as having happened (a payment, a signature) may not lie in the
 * future: they move the balance and the legal clocks.
 */
export function futureInstants(event: DunningEvent, now: Date): { field: string; reason: string }[] {
  const found =
    event.type === 'payment.received'
      ? futureInstant('data.paidAt', event.data.paidAt, now)
      : event.type === 'acknowledgment.signed'
        ? futureInstant('data.signedAt', event.data.signedAt, now)
        : null;
  return found ? [found] : [];
}
