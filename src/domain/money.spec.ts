import { amountAtRate, currencyExponent, formatMinorUnits, isCurrency, toMinorUnits } from './money';

describe('money', () => {
  describe('isCurrency', () => {
    it.each(['EUR', 'USD', 'JPY', 'KWD', 'CNY'])('accepts the ISO 4217 code %s', (code) => {
      expect(isCurrency(code)).toBe(true);
    });

    it.each(['eur', 'Eur', 'XYZ', 'EURO', 'EU', '', ' EUR'])('rejects %p', (code) => {
      expect(isCurrency(code)).toBe(false);
    });
  });

  describe('currencyExponent', () => {
    it.each([
      ['EUR', 2],
      ['USD', 2],
      ['JPY', 0],
      ['KWD', 3],
    ])('%s has %i decimals', (code, exponent) => {
      expect(currencyExponent(code)).toBe(exponent);
    });

    it('gives the same answer when asked twice', () => {
      expect(currencyExponent('KWD')).toBe(3);
      expect(currencyExponent('KWD')).toBe(3);
    });
  });

  describe('toMinorUnits', () => {
    it.each([
      ['1250.00', 'EUR', 125000n],
      ['1250.5', 'EUR', 125050n],
      ['1250', 'EUR', 125000n],
      ['0.01', 'EUR', 1n],
      ['0', 'EUR', 0n],
      ['100', 'JPY', 100n],
      ['0', 'JPY', 0n],
      ['1.234', 'KWD', 1234n],
      ['1.2', 'KWD', 1200n],
      ['12', 'KWD', 12000n],
    ])('parses %s %s to %p', (amount, currency, minor) => {
      expect(toMinorUnits(amount, currency)).toBe(minor);
    });

    it('keeps 16-digit amounts exact (beyond Number precision)', () => {
      expect(toMinorUnits('9999999999999999.99', 'EUR')).toBe(999999999999999999n);
      expect(toMinorUnits('1234567890123456.78', 'EUR')).toBe(123456789012345678n);
      expect(toMinorUnits('9007199254740993', 'JPY')).toBe(9007199254740993n);
    });

    it.each([
      ['0.001', 'EUR'],
      ['1250.505', 'EUR'],
      ['100.5', 'JPY'],
      ['100.0', 'JPY'],
      ['1.2345', 'KWD'],
    ])('returns null for %s %s (more decimals than the currency allows)', (amount, currency) => {
      expect(toMinorUnits(amount, currency)).toBeNull();
    });

    it.each(['-5.00', 'abc', '', '1,250.00', '1250.', '.5', '01.00', '1e3', ' 1.00', '1.00 ', '+1.00', '12345678901234567'])(
      'returns null for the malformed amount %p',
      (amount) => {
        expect(toMinorUnits(amount, 'EUR')).toBeNull();
      },
    );
  });

  describe('formatMinorUnits', () => {
    it.each([
      [125000n, 'EUR', '1250.00'],
      [125050n, 'EUR', '1250.50'],
      [1n, 'EUR', '0.01'],
      [10n, 'EUR', '0.10'],
      [0n, 'EUR', '0.00'],
      [-150n, 'EUR', '-1.50'],
      [-5n, 'EUR', '-0.05'],
      [100n, 'JPY', '100'],
      [0n, 'JPY', '0'],
      [1234n, 'KWD', '1.234'],
      [5n, 'KWD', '0.005'],
      [999999999999999999n, 'EUR', '9999999999999999.99'],
    ])('formats %p %s as %s', (minor, currency, text) => {
      expect(formatMinorUnits(minor, currency)).toBe(text);
    });
  });

  describe('round trip', () => {
    it.each([
      ['1250.00', 'EUR'],
      ['0.01', 'EUR'],
      ['0.00', 'EUR'],
      ['9999999999999999.99', 'EUR'],
      ['100', 'JPY'],
      ['1.234', 'KWD'],
      ['0.005', 'KWD'],
    ])('format(parse(%s)) in %s gives the same string', (amount, currency) => {
      const minor = toMinorUnits(amount, currency);
      expect(minor).not.toBeNull();
      expect(formatMinorUnits(minor as bigint, currency)).toBe(amount);
    });

    it('normalises a short fraction to the currency exponent', () => {
      expect(formatMinorUnits(toMinorUnits('1250.5', 'EUR') as bigint, 'EUR')).toBe('1250.50');
      expect(formatMinorUnits(toMinorUnits('7', 'KWD') as bigint, 'KWD')).toBe('7.000');
    });

    it.each([0n, 1n, 99n, 100n, 123456789n, 999999999999999999n])('parse(format(%p)) in EUR gives the same amount', (minor) => {
      expect(toMinorUnits(formatMinorUnits(minor, 'EUR'), 'EUR')).toBe(minor);
    });
  });
});

describe('ISO 4217 minor units, independent of ICU display data', () => {
  it.each([
    ['HUF', 2],
    ['IDR', 2],
    ['IQD', 3],
    ['CLF', 4],
    ['ISK', 0],
  ])('%s has %i decimals', (code, exponent) => {
    expect(currencyExponent(code)).toBe(exponent);
  });

  it('parses amounts in currencies ICU displays without decimals', () => {
    expect(toMinorUnits('1250.50', 'HUF')).toBe(125050n);
    expect(toMinorUnits('1.500', 'IQD')).toBe(1500n);
    expect(isCurrency('CLF')).toBe(true);
  });

  describe('amountAtRate', () => {
    it('multiplies exactly and rounds once, half up, to the minor unit', () => {
      // 333.33 × 0.125 = 41.66625 → 41.67; 100.04 × 0.125 = 12.505 → 12.51; 0.01 × 0.4 = 0.004 → 0.00.
      expect([amountAtRate(33_333n, 12_500_000n), amountAtRate(10_004n, 12_500_000n), amountAtRate(1n, 40_000_000n)]).toEqual([4_167n, 1_251n, 0n]);
    });

    it('refuses a negative amount or rate', () => {
      expect(() => amountAtRate(-1n, 1n)).toThrow(RangeError);
      expect(() => amountAtRate(1n, -1n)).toThrow(RangeError);
    });
  });
});
