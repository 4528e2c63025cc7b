/** Exact money: integer minor units (bigint) plus an ISO-4217 code; decimal strings on the wire. */
const knownCurrencies = new Set(Intl.supportedValuesOf('currency'));

export function isCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && knownCurrencies.has(code);
}

const exponents = new Map<string, number>();

export function currencyExponent(currency: string): number {
  let exponent = exponents.get(currency);
  if (exponent === undefined) {
    exponent = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    exponents.set(currency, exponent);
  }
  return exponent;
}

export const DECIMAL_PATTERN = /^(0|[1-9]\d{0,15})(\.\d+)?$/;

/** Parses "1250.5" in EUR to 125050n; null when the string has more decimals than the currency allows. */
export function toMinorUnits(amount: string, currency: string): bigint | null {
  const match = DECIMAL_PATTERN.exec(amount);
  if (!match) return null;
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
