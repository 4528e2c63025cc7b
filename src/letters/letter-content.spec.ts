import { addressLines, formatDate, formatMoney, formatRate, letterVariables, printedTexts } from './letter-content';
import { newLetterFields } from './letter-fields.fixture';
import type { LetterType } from '../domain/letter-fields';

const titles: Record<LetterType, string> = {
  'payment-demand': 'Demand for Payment',
  'contract-termination': 'Notice of Termination of Contract',
  'document-request': 'Request for Outstanding Documents',
  'guarantor-notice': 'Notice to Guarantor and Demand for Payment',
};

describe('formatDate', () => {
  it('writes a calendar date in the letter locale', () => {
    expect(formatDate('2026-11-23', 'en')).toBe('23 November 2026');
    expect(formatDate('2026-11-23', 'zh-CN')).toBe('2026年11月23日');
  });

  it('refuses what is not a YYYY-MM-DD date', () => {
    expect(() => formatDate('23/11/2026', 'en')).toThrow(RangeError);
  });
});

describe('formatMoney', () => {
  it.each([
    ['1250', 'EUR', 'en', '€1,250.00'],
    ['1250.5', 'GBP', 'en', '£1,250.50'],
    ['1250.00', 'CNY', 'zh-CN', '¥1,250.00'],
    ['1250', 'JPY', 'en', 'JP¥1,250'],
    ['1.250', 'KWD', 'en', 'KWD 1.250'],
  ] as const)('formats %s %s in %s as %s', (amount, currency, locale, expected) => {
    expect(formatMoney(amount, currency, locale).replace(/\u00a0/g, ' ')).toBe(expected);
  });

  it('never rounds an amount away, and stays exact beyond float precision', () => {
    expect(formatMoney('1250.5', 'JPY', 'en')).toBe('JP¥1,250.5');
    expect(formatMoney('9007199254740993.01', 'EUR', 'en')).toBe('€9,007,199,254,740,993.01');
  });
});

describe('formatRate', () => {
  it('prints a daily rate as a percentage', () => {
    expect(formatRate('0.0004', 'en')).toBe('0.04 %');
    expect(formatRate('0.0004', 'zh-CN')).toBe('0.04%');
    expect(formatRate('0.000125', 'en')).toBe('0.0125 %');
  });
});

describe('addressLines', () => {
  const address = { line1: '12 Ockham Road', line2: 'Flat 3', city: 'London', postalCode: 'SW1A 1AA', country: 'United Kingdom' };

  it('orders an English address from the street to the country', () => {
    expect(addressLines(address, 'en')).toEqual(['12 Ockham Road', 'Flat 3', 'London SW1A 1AA', 'United Kingdom']);
  });

  it('orders a Chinese address from the largest unit to the smallest, postcode last', () => {
    expect(addressLines({ line1: '建国路88号 3号楼1201室', district: '朝阳区', city: '北京市', postalCode: '100022' }, 'zh-CN')).toEqual([
      '北京市朝阳区',
      '建国路88号 3号楼1201室',
      '邮编 100022',
    ]);
  });

  it('keeps keys it does not know, in their order', () => {
    expect(addressLines({ line1: 'Main Street 1', careOf: 'c/o Finance', city: 'Springfield', region: 'IL', postalCode: '62701' }, 'en')).toEqual([
      'Main Street 1',
      'Springfield, IL 62701',
      'c/o Finance',
    ]);
  });
});

describe('letterVariables', () => {
  it('states the late fee with its formula, per-day increase and dates', () => {
    const sut = letterVariables(newLetterFields(), titles);

    expect(sut.fee).toEqual({
      startDate: '7 November 2026',
      rate: '0.04 %',
      days: 17,
      base: '€1,250.00',
      accrued: '€8.50',
      perDay: '€0.50',
      asOf: '23 November 2026',
      formula: '1,250.00 × 17 days × 0.04 % = 8.50',
      cap: null,
      capped: false,
    });
    expect(sut.totalDue).toBe('€1,258.50');
    expect(sut.deadline).toBe('7 December 2026');
    expect(sut.contract).toEqual({ ref: 'C-2026-007', date: '5 January 2026' });
  });

  it('writes the formula in Chinese for a zh-CN letter', () => {
    const sut = letterVariables(newLetterFields({ locale: 'zh-CN', currency: 'CNY' }), titles);

    expect(sut.fee?.formula).toBe('1,250.00 × 17 天 × 0.04% = 8.50');
    expect(sut.fee?.accrued).toBe('¥8.50');
    expect(sut.date).toBe('2026年11月23日');
  });

  it('shows the product before the cap, so a capped fee still adds up', () => {
    const fee = {
      startDate: '2026-01-01',
      ratePerDay: '0.0004',
      days: 400,
      base: '1250.00',
      accrued: '125.00',
      perDay: '0.00',
      asOf: '2027-02-04',
      cap: '125.00',
      capped: true,
    };
    const sut = letterVariables(newLetterFields({ fee }), titles);

    expect(sut.fee?.formula).toBe('1,250.00 × 400 days × 0.04 % = 200.00');
    expect(sut.fee?.cap).toBe('€125.00');
    expect(sut.fee?.capped).toBe(true);
  });

  it('says "day" for one day', () => {
    const fee = { ...newLetterFields().fee!, days: 1, accrued: '0.50' };
    expect(letterVariables(newLetterFields({ fee }), titles).fee?.formula).toBe('1,250.00 × 1 day × 0.04 % = 0.50');
  });

  it('has no fee variables when no late fee applies', () => {
    expect(letterVariables(newLetterFields({ fee: null }), titles).fee).toBeNull();
  });

  it('names the letters already sent by their title in the letter locale', () => {
    const previousLetters = [{ number: 'L-2026-000001', type: 'payment-demand' as const, date: '2026-11-01' }];
    const sut = letterVariables(newLetterFields({ type: 'contract-termination', previousLetters }), titles);

    expect(sut.previousLetters).toEqual([{ number: 'L-2026-000001', title: 'Demand for Payment', date: '1 November 2026' }]);
  });

  it('splits the creditor address into lines', () => {
    expect(letterVariables(newLetterFields(), titles).creditor.addressLines).toEqual(['1 Bank Street', 'London E14 5AB']);
  });
});

describe('printedTexts', () => {
  it('names each printed field by its path, including address parts, documents and the currency symbol', () => {
    const fields = newLetterFields({ documents: ['Proof of income'], previousLetters: [{ number: 'L-1', type: 'payment-demand', date: '2026-11-01' }] });
    const sut = printedTexts(fields);

    expect(sut.map((entry) => entry.field)).toEqual([
      'number',
      'creditor.name',
      'creditor.address',
      'creditor.contactName',
      'creditor.contactPhone',
      'creditor.contactEmail',
      'recipient.name',
      'recipient.address.line1',
      'recipient.address.city',
      'recipient.address.postalCode',
      'debtor.name',
      'contract.ref',
      'invoice.ref',
      'currency',
      'documents[0]',
      'previousLetters[0].number',
    ]);
    expect(sut.find((entry) => entry.field === 'currency')?.text).toBe('€0.00');
  });
});
