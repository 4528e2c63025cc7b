/**
 * What a letter prints, formatted for its locale: money, dates, the late-fee formula and postal
 * address lines. Pure: the renderer feeds the result to the letter templates.
 */
import { currencyExponent, formatMinorUnits, toMinorUnits } from '../domain/money';
import { lateFee, ratePercent } from '../domain/late-fee';
import type { LetterFee, LetterFields, LetterLocale, LetterType } from '../domain/letter-fields';

export interface LetterFeeVariables extends Omit<LetterFee, 'ratePerDay'> {
  /** "0.04 %" (en) or "0.04%" (zh-CN). */
  rate: string;
  /** base × days × rate = result, with the numbers: "1,250.00 × 17 days × 0.04 % = 8.50". Before the cap. */
  formula: string;
}

/**
 * The variables letter templates see: the letter's fields, formatted. Money carries its currency
 * symbol (`currency` is the ISO code), dates are in the locale's form.
 */
export interface LetterVariables extends Omit<LetterFields, 'type' | 'locale' | 'creditor' | 'recipient' | 'fee' | 'previousLetters'> {
  creditor: Omit<LetterFields['creditor'], 'address'> & { addressLines: string[] };
  recipient: Omit<LetterFields['recipient'], 'address'> & { addressLines: string[] };
  fee: LetterFeeVariables | null;
  /** `title` is that letter type's title in this locale, e.g. 催款通知书. */
  previousLetters: { number: string; title: string; date: string }[];
}

const INTL_LOCALE: Record<LetterLocale, string> = { en: 'en-GB', 'zh-CN': 'zh-CN' };

export function letterVariables(fields: LetterFields, titles: Record<LetterType, string>): LetterVariables {
  const { locale, currency } = fields;
  const date = (value: string) => formatDate(value, locale);
  const money = (value: string) => formatMoney(value, currency, locale);
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
    contract: { ref: fields.contract.ref, date: fields.contract.date ? date(fields.contract.date) : null },
    invoice: { ref: fields.invoice.ref, dueDate: date(fields.invoice.dueDate) },
    currency,
    principal: money(fields.principal),
    outstanding: money(fields.outstanding),
    fee: fields.fee && {
      startDate: date(fields.fee.startDate),
      rate: formatRate(fields.fee.ratePerDay, locale),
      days: fields.fee.days,
      base: money(fields.fee.base),
      accrued: money(fields.fee.accrued),
      perDay: money(fields.fee.perDay),
      asOf: date(fields.fee.asOf),
      formula: feeFormula(fields.fee, currency, locale),
      cap: fields.fee.cap === null ? null : money(fields.fee.cap),
      capped: fields.fee.capped,
    },
    totalDue: money(fields.totalDue),
    deadline: date(fields.deadline),
    documents: fields.documents,
    previousLetters: fields.previousLetters.map((letter) => ({ number: letter.number, title: titles[letter.type], date: date(letter.date) })),
    noticesSent: fields.noticesSent,
    guaranteeEndsOn: fields.guaranteeEndsOn ? date(fields.guaranteeEndsOn) : null,
  };
}

/** "2026-11-23" → "23 November 2026" (en) or "2026年11月23日" (zh-CN). */
export function formatDate(isoDate: string, locale: LetterLocale): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!match) throw new RangeError(`"${isoDate}" is not a YYYY-MM-DD date`);
  // A calendar date, not an instant: format it in UTC so the host's zone cannot shift the day.
  const day = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return new Intl.DateTimeFormat(INTL_LOCALE[locale], { dateStyle: 'long', timeZone: 'UTC' }).format(day);
}

/** "1250.5" EUR → "€1,250.50". Never rounds: a stated amount keeps every decimal it has. */
export function formatMoney(amount: string, currency: string, locale: LetterLocale): string {
  return new Intl.NumberFormat(INTL_LOCALE[locale], { style: 'currency', currency, ...fractionDigits(amount, currency) }).format(decimal(amount));
}

/** Like formatMoney without the currency symbol, for the formula: "1,250.00". */
function formatAmount(amount: string, currency: string, locale: LetterLocale): string {
  return new Intl.NumberFormat(INTL_LOCALE[locale], fractionDigits(amount, currency)).format(decimal(amount));
}

function fractionDigits(amount: string, currency: string): { minimumFractionDigits: number; maximumFractionDigits: number } {
  // The ISO exponent (money.ts), not ICU's display digits, which differ for some currencies.
  const exponent = currencyExponent(currency);
  const decimals = amount.split('.')[1]?.length ?? 0;
  return { minimumFractionDigits: exponent, maximumFractionDigits: Math.max(exponent, decimals) };
}

/** Intl formats a numeric string exactly (no float on the way), which is why amounts stay strings. */
function decimal(amount: string): Intl.StringNumericLiteral {
  if (!/^-?\d+(\.\d+)?$/.test(amount)) throw new RangeError(`"${amount}" is not a decimal amount`);
  return amount as Intl.StringNumericLiteral;
}

export function formatRate(ratePerDay: string, locale: LetterLocale): string {
  return locale === 'en' ? `${ratePercent(ratePerDay)} %` : `${ratePercent(ratePerDay)}%`;
}

/** The fee as computed (late-fee.ts), before any cap, so the printed product is what the numbers give. */
function feeFormula(fee: NonNullable<LetterFields['fee']>, currency: string, locale: LetterLocale): string {
  const baseMinor = toMinorUnits(fee.base, currency);
  if (baseMinor === null) throw new RangeError(`late-fee base "${fee.base}" is not an amount in ${currency}`);
  const product = formatMinorUnits(lateFee(baseMinor, baseMinor, fee.days, { ratePerDay: fee.ratePerDay }).accruedMinor, currency);
  const days = locale === 'en' ? `${fee.days} ${fee.days === 1 ? 'day' : 'days'}` : `${fee.days} 天`;
  const amount = (value: string) => formatAmount(value, currency, locale);
  return `${amount(fee.base)} × ${days} × ${formatRate(fee.ratePerDay, locale)} = ${amount(product)}`;
}

function splitLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}

/** Keys of a postal address (README: `{"line1": "…", "city": "…"}`) the layout knows; others follow in their order. */
const ADDRESS_KEYS = ['line1', 'line2', 'line3', 'district', 'city', 'region', 'postalCode', 'country'] as const;

/**
 * Postal address lines in the order the locale's post expects: en from street to country,
 * zh-CN from the largest unit to the smallest (国家、省市区、街道门牌), postcode last.
 */
export function addressLines(address: Record<string, string>, locale: LetterLocale): string[] {
  const part = (key: string) => address[key]?.trim() ?? '';
  const others = Object.keys(address)
    .filter((key) => !(ADDRESS_KEYS as readonly string[]).includes(key))
    .map(part);
  const lines =
    locale === 'en'
      ? [
          part('line1'),
          part('line2'),
          part('line3'),
          part('district'),
          [[part('city'), part('region')].filter(Boolean).join(', '), part('postalCode')].filter(Boolean).join(' '),
          ...others,
          part('country'),
        ]
      : [
          part('country'),
          part('region') + part('city') + part('district'),
          part('line1'),
          part('line2'),
          part('line3'),
          ...others,
          part('postalCode') && `邮编 ${part('postalCode')}`,
        ];
  return lines.filter(Boolean);
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
    { field: 'debtor.name', text: fields.debtor.name },
    { field: 'contract.ref', text: fields.contract.ref ?? '' },
    { field: 'invoice.ref', text: fields.invoice.ref },
    // The symbol Intl picks for the currency (₹, ₽…) must be drawable too.
    { field: 'currency', text: formatMoney('0', fields.currency, fields.locale) },
    ...fields.documents.map((text, index) => ({ field: `documents[${index}]`, text })),
    ...fields.previousLetters.map((letter, index) => ({ field: `previousLetters[${index}].number`, text: letter.number })),
  ];
  return texts.filter((entry) => entry.text !== '');
}
