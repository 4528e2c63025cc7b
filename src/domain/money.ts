/** Exact money: integer minor units (bigint) plus an ISO-4217 code; decimal strings on the wire. */
// ICU's list of codes, plus ISO units of account it lacks.
const knownCurrencies = new Set([...Intl.supportedValuesOf('currency'), 'CLF', 'UYW']);

export function isCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && knownCurrencies.has(code);
}

/**
 * ISO 4217 minor units for the codes that do not use 2. Fixed here rather than read from ICU,
 * whose display digits differ (HUF, IDR…) and may change with a Node upgrade, which would
 * silently change what a stored bigint means.
 */
const ISO_EXPONENTS: Record<string, number> = {
  ...Object.fromEntries(
    ['BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF'].map((code) => [code, 0]),
  ),
  ...Object.fromEntries(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'].map((code) => [code, 3])),
  CLF: 4,
  UYW: 4,
};

export function currencyExponent(currency: string): number {
  return ISO_EXPONENTS[currency] ?? 2;
}

export const DECIMAL_PATTERN = /^(0|[1-9]\d{0,15})(\.\d+)?$/;

/** Parses "1250.5" in EUR to 125050n; null when the string has more decimals than the currency allows. */
export function toMinorUnits(amount: string, currency: string): bigint | null {
  const match = DECIMAL_PATTERN.exec(amount);
  if (!match?.[1]) return null;
  const exponent = currencyExponent(currency);
  const fraction = (match[2] ?? '.').slice(1);
  if (fraction.length > exponent) return null;
  return BigInt(match[1]) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, '0') || '0');
}

export function formatMinorUnits(minor: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** Rates (a late fee's daily rate, an agency's commission) have at most 8 decimals: integers in units of 10⁻⁸. */
export const RATE_DECIMALS = 8;
export const RATE_SCALE = 10n ** BigInt(RATE_DECIMALS);

/**
 * base × rate (the rate in units of 10⁻⁸), computed exactly and rounded once, half up, to the
 * minor unit (0.005 EUR → 0.01 EUR): the one way an amount at a rate is computed.
 */
export function amountAtRate(baseMinor: bigint, scaledRate: bigint): bigint {
  if (baseMinor < 0n || scaledRate < 0n) throw new RangeError('a rate applies to a non-negative amount');
  return (baseMinor * scaledRate + RATE_SCALE / 2n) / RATE_SCALE;
}
