import addressFormatter from '@fragaria/address-formatter';
import Nzh from 'nzh';
import { ratePercent } from './late-fee';
import type { LetterLocale } from './letter-fields';
import { currencyExponent } from './money';

/**
 * How facts read in each locale, the same in letters, emails and SMS: one date style, one money
 * style, amounts in Chinese capitals (大写), the rate, country names and postal addresses.
 */

const INTL_LOCALE: Record<LetterLocale, string> = { en: 'en-GB', 'zh-CN': 'zh-CN' };

/** Building a DateTimeFormat costs a few hundred µs (more than the rest of a notice's template); one per locale serves every date. */
const dateFormats = new Map<LetterLocale, Intl.DateTimeFormat>();
function dateFormat(locale: LetterLocale): Intl.DateTimeFormat {
  let format = dateFormats.get(locale);
  if (!format) {
    // A calendar date, not an instant: formatted in UTC so the host's zone cannot shift the day.
    format = new Intl.DateTimeFormat(INTL_LOCALE[locale], { dateStyle: 'long', timeZone: 'UTC' });
    dateFormats.set(locale, format);
  }
  return format;
}

/** "2026-11-23" → "23 November 2026" (en) or "2026年11月23日" (zh-CN). */
export function formatDate(isoDate: string, locale: LetterLocale): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!match) throw new RangeError(`"${isoDate}" is not a YYYY-MM-DD date`);
  const day = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return dateFormat(locale).format(day);
}

/** Building a NumberFormat is costly; a handful of locale × currency × digits cover every message. */
const numberFormats = new Map<string, Intl.NumberFormat>();
function numberFormat(
  locale: LetterLocale,
  currency: string | null,
  digits: { minimumFractionDigits: number; maximumFractionDigits: number },
): Intl.NumberFormat {
  const key = `${locale}/${currency ?? ''}/${digits.minimumFractionDigits}/${digits.maximumFractionDigits}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(INTL_LOCALE[locale], currency ? { style: 'currency', currency, ...digits } : digits);
    numberFormats.set(key, format);
  }
  return format;
}

/** "1250.5" EUR → "€1,250.50". Never rounds: a stated amount keeps every decimal it has. */
export function formatMoney(amount: string, currency: string, locale: LetterLocale): string {
  return numberFormat(locale, currency, fractionDigits(amount, currency)).format(decimal(amount));
}

/** Like formatMoney without the currency symbol, for formulas and tables: "1,250.00". */
export function formatAmount(amount: string, currency: string, locale: LetterLocale): string {
  return numberFormat(locale, null, fractionDigits(amount, currency)).format(decimal(amount));
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

/**
 * An amount in Chinese capital numerals, as payment demands state it (大写): "1258.50" CNY →
 * "人民币壹仟贰佰伍拾捌元伍角". The currency's Chinese name leads; 整 follows a whole 元, and 角
 * and 分 follow the rules for payment instruments (支付结算办法, 附件一). Null for a currency with
 * units other than 元角分 (a three-decimal currency).
 */
export function amountInWords(amount: string, currency: string): string | null {
  const exponent = currencyExponent(currency);
  if (exponent !== 0 && exponent !== 2) return null;
  // nzh reads the digits as given: "1250.00" would lose its 整, so the zeros go first.
  const digits = decimal(amount)
    .replace(/^-/, '')
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
  const words = Nzh.cn.toMoney(digits, { outSymbol: false });
  const name = currency === 'CNY' ? '人民币' : new Intl.DisplayNames('zh-CN', { type: 'currency' }).of(currency);
  return `${amount.startsWith('-') ? '负' : ''}${name ?? currency}${words}`;
}

/** "DE" → "Germany" (en) or "德国" (zh-CN); a code Intl does not know stays as it is. */
export function countryName(code: string, locale: LetterLocale): string {
  try {
    return new Intl.DisplayNames(INTL_LOCALE[locale], { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** Address keys events use (README: `{"line1": "…", "city": "…"}`); others follow in their order. */
const ADDRESS_KEYS = ['line1', 'line2', 'line3', 'district', 'city', 'region', 'postalCode', 'postcode', 'country'] as const;

/**
 * Postal address lines as the country's post lays them out (OpenCage's address templates: "10117
 * Berlin", "London / EC1A 1BB"), with the country's name last. A Chinese address (or one without
 * a country) in a Chinese letter reads from the largest unit to the smallest (国家、省市区、街道门牌),
 * postcode last.
 */
export function addressLines(address: Record<string, string>, locale: LetterLocale): string[] {
  const part = (key: string) => address[key]?.trim() || undefined;
  const raw = part('country');
  const code = raw && /^[A-Za-z]{2}$/.test(raw) ? raw.toUpperCase() : undefined;
  const country = code ? countryName(code, locale) : raw;
  const others = Object.keys(address)
    .filter((key) => !(ADDRESS_KEYS as readonly string[]).includes(key))
    .map(part)
    .filter((line): line is string => Boolean(line));
  const postcode = part('postalCode') ?? part('postcode');
  if (locale === 'zh-CN' && (code === 'CN' || !raw)) {
    const lines = [country, [part('region'), part('city'), part('district')].filter(Boolean).join(''), part('line1'), part('line2'), part('line3'), ...others];
    return [...lines, postcode && `邮编 ${postcode}`].filter((line): line is string => Boolean(line));
  }
  const house = [part('line2'), part('line3')].filter(Boolean).join(', ');
  const lines = addressFormatter.format(
    {
      road: part('line1'),
      ...(house ? { house } : {}),
      ...(part('district') ? { suburb: part('district') } : {}),
      city: part('city'),
      state: part('region'),
      postcode,
      countryCode: code,
    },
    { output: 'array', appendCountry: false },
  );
  return [...lines, ...others, country].filter((line): line is string => Boolean(line));
}
