/**
 * What a letter prints, formatted for its locale: money, dates, the late-fee periods, the amount
 * in words and postal address lines. Pure: the renderer feeds the result to the letter templates.
 */
import type { AllocationPart } from '../domain/allocation';
import { addressLines, amountInWords, formatAmount, formatDate, formatMoney, formatRate } from '../domain/formats';
import type { LetterFields, LetterLocale, LetterType } from '../domain/letter-fields';

export interface LetterFeePeriodVariables {
  from: string;
  to: string;
  days: number;
  base: string;
  fee: string;
  /** "1,250.00 × 10 days × 0.04 % = 5.00": the period's product, before any cap. */
  formula: string;
}

export interface LetterFeeVariables {
  startDate: string;
  /** "0.04 %" (en) or "0.04%" (zh-CN). */
  rate: string;
  days: number;
  base: string;
  periods: LetterFeePeriodVariables[];
  /** Several balance periods: a payment changed the base the fee runs on. */
  byPeriods: boolean;
  /** The single period's formula, or every period's joined. */
  formula: string;
  accrued: string;
  paid: string;
  /** Whether payments paid any of it. */
  partlyPaid: boolean;
  outstanding: string;
  perDay: string;
  asOf: string;
  cap: string | null;
  capped: boolean;
}

/**
 * The variables letter templates see: the letter's fields, formatted. Money carries its currency
 * symbol (`currency` is the ISO code), dates are in the locale's one style.
 */
export interface LetterVariables {
  number: string;
  date: string;
  creditor: Omit<LetterFields['creditor'], 'address'> & { addressLines: string[] };
  recipient: Omit<LetterFields['recipient'], 'address'> & { addressLines: string[] };
  debtor: { name: string };
  contract: { ref: string | null; date: string | null; inForce: boolean };
  invoice: { ref: string; dueDate: string };
  currency: string;
  principal: string;
  payments: { date: string; amount: string; toCosts: string; toInterest: string; toPrincipal: string }[];
  allocation: readonly AllocationPart[];
  paid: string;
  outstanding: string;
  fee: LetterFeeVariables | null;
  costs: string;
  hasCosts: boolean;
  totalDue: string;
  /** Chinese letters: the total in capitals (人民币壹仟贰佰伍拾捌元伍角); null in English. */
  totalDueInWords: string | null;
  deadline: string;
  documents: string[];
  /** `title` is that letter type's title in this locale, e.g. 催款通知书. */
  previousLetters: { number: string; title: string; date: string }[];
  noticesSent: number;
  lastNoticeDate: string | null;
  guaranteeEndsOn: string | null;
  /** The letter is dated within the guarantee period: only then may it say so. */
  withinGuaranteePeriod: boolean;
  jointGuarantee: boolean;
  payment: LetterFields['payment'] & { byTransfer: boolean };
  dispute: LetterFields['dispute'];
  selfServiceUrl: string | null;
  selfServiceUntil: string | null;
}

export function letterVariables(fields: LetterFields, titles: Record<LetterType, string>): LetterVariables {
  const { locale, currency } = fields;
  const date = (value: string) => formatDate(value, locale);
  const money = (value: string) => formatMoney(value, currency, locale);
  const amount = (value: string) => formatAmount(value, currency, locale);
  const fee = fields.fee;
  const periods =
    fee?.periods.map((p) => ({
      from: date(p.from),
      to: date(p.to),
      days: p.days,
      base: money(p.base),
      fee: money(p.fee),
      formula: `${amount(p.base)} × ${dayCount(p.days, locale)} × ${formatRate(fee.ratePerDay, locale)} = ${amount(p.product)}`,
    })) ?? [];
  return {
    number: fields.number,
    date: date(fields.date),
    creditor: {
      name: fields.creditor.name,
      addressLines: fields.creditor.address ? splitLines(fields.creditor.address) : [],
      contactName: fields.creditor.contactName,
      contactPhone: fields.creditor.contactPhone,
      contactEmail: fields.creditor.contactEmail,
    },
    recipient: {
      role: fields.recipient.role,
      name: fields.recipient.name,
      addressLines: fields.recipient.address ? addressLines(fields.recipient.address, locale) : [],
    },
    debtor: { name: fields.debtor.name },
    contract: { ref: fields.contract.ref, date: fields.contract.date ? date(fields.contract.date) : null, inForce: fields.contract.inForce },
    invoice: { ref: fields.invoice.ref, dueDate: date(fields.invoice.dueDate) },
    currency,
    principal: money(fields.principal),
    payments: fields.payments.map((p) => ({
      date: date(p.date),
      amount: money(p.amount),
      toCosts: money(p.toCosts),
      toInterest: money(p.toInterest),
      toPrincipal: money(p.toPrincipal),
    })),
    allocation: fields.allocation,
    paid: money(fields.paid),
    outstanding: money(fields.outstanding),
    fee: fee && {
      startDate: date(fee.startDate),
      rate: formatRate(fee.ratePerDay, locale),
      days: fee.days,
      base: money(fee.base),
      periods,
      byPeriods: periods.length > 1,
      formula: periods.map((p) => p.formula).join('; '),
      accrued: money(fee.accrued),
      paid: money(fee.paid),
      partlyPaid: !isZero(fee.paid),
      outstanding: money(fee.outstanding),
      perDay: money(fee.perDay),
      asOf: date(fee.asOf),
      cap: fee.cap === null ? null : money(fee.cap),
      capped: fee.capped,
    },
    costs: money(fields.costs),
    hasCosts: !isZero(fields.costs),
    totalDue: money(fields.totalDue),
    totalDueInWords: locale === 'zh-CN' ? amountInWords(fields.totalDue, currency) : null,
    deadline: date(fields.deadline),
    documents: fields.documents,
    previousLetters: fields.previousLetters.map((letter) => ({ number: letter.number, title: titles[letter.type], date: date(letter.date) })),
    noticesSent: fields.noticesSent,
    lastNoticeDate: fields.lastNoticeDate ? date(fields.lastNoticeDate) : null,
    guaranteeEndsOn: fields.guaranteeEndsOn ? date(fields.guaranteeEndsOn) : null,
    withinGuaranteePeriod: fields.guaranteeEndsOn !== null && fields.date <= fields.guaranteeEndsOn,
    jointGuarantee: fields.guaranteeType === 'joint',
    payment: { ...fields.payment, byTransfer: fields.payment.account !== null },
    dispute: fields.dispute,
    selfServiceUrl: fields.selfServiceUrl ?? null,
    selfServiceUntil: fields.selfServiceUntil ? date(fields.selfServiceUntil) : null,
  };
}

const isZero = (amount: string) => /^0+(\.0+)?$/.test(amount);

function dayCount(days: number, locale: LetterLocale): string {
  return locale === 'en' ? `${days} ${days === 1 ? 'day' : 'days'}` : `${days} 天`;
}

function splitLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}

/** A piece of data the letter prints, with its path in LetterFields, for the glyph check. */
export interface PrintedText {
  field: string;
  text: string;
}

/** Every string taken from the fields that a letter prints (dates and numbers are formatted from digits). */
export function printedTexts(fields: LetterFields): PrintedText[] {
  const texts: PrintedText[] = [
    { field: 'number', text: fields.number },
    { field: 'creditor.name', text: fields.creditor.name },
    { field: 'creditor.address', text: fields.creditor.address ?? '' },
    { field: 'creditor.contactName', text: fields.creditor.contactName },
    { field: 'creditor.contactPhone', text: fields.creditor.contactPhone ?? '' },
    { field: 'creditor.contactEmail', text: fields.creditor.contactEmail ?? '' },
    { field: 'recipient.name', text: fields.recipient.name },
    ...Object.entries(fields.recipient.address ?? {}).map(([key, text]) => ({ field: `recipient.address.${key}`, text })),
    // The country's name as the locale writes it, for a country code.
    ...(fields.recipient.address?.country
      ? [{ field: 'recipient.address.country', text: addressLines({ country: fields.recipient.address.country }, fields.locale).join('\n') }]
      : []),
    { field: 'debtor.name', text: fields.debtor.name },
    { field: 'contract.ref', text: fields.contract.ref ?? '' },
    { field: 'invoice.ref', text: fields.invoice.ref },
    // The symbol Intl picks for the currency (₹, ₽…) must be drawable too.
    { field: 'currency', text: formatMoney('0', fields.currency, fields.locale) },
    ...fields.documents.map((text, index) => ({ field: `documents[${index}]`, text })),
    ...fields.previousLetters.map((letter, index) => ({ field: `previousLetters[${index}].number`, text: letter.number })),
    { field: 'payment.payee', text: fields.payment.payee },
    { field: 'payment.bank', text: fields.payment.bank ?? '' },
    { field: 'payment.account', text: fields.payment.account ?? '' },
    { field: 'payment.link', text: fields.payment.link ?? '' },
    { field: 'dispute.email', text: fields.dispute.email ?? '' },
    { field: 'dispute.phone', text: fields.dispute.phone ?? '' },
    { field: 'dispute.url', text: fields.dispute.url ?? '' },
    { field: 'selfServiceUrl', text: fields.selfServiceUrl ?? '' },
  ];
  return texts.filter((entry) => entry.text !== '');
}
