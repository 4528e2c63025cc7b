import { letterVariables, printedTexts } from './letter-content';
import { newLetterFields, partPaidLetterFields } from './letter-fields.fixture';
import type { LetterType } from '../domain/letter-fields';

const titles: Record<LetterType, string> = {
  'payment-demand': 'Demand for Payment',
  'contract-termination': 'Notice of Termination of Contract',
  'document-request': 'Request for Outstanding Documents',
  'guarantor-notice': 'Notice to Guarantor and Demand for Payment',
};

describe('letterVariables', () => {
  it('states the late fee with its formula, per-day increase and dates', () => {
    const sut = letterVariables(newLetterFields(), titles);

    expect(sut.fee).toEqual({
      startDate: '7 November 2026',
      rate: '0.04 %',
      days: 17,
      base: '€1,250.00',
      periods: [{ from: '7 November 2026', to: '23 November 2026', days: 17, base: '€1,250.00', fee: '€8.50', formula: '1,250.00 × 17 days × 0.04 % = 8.50' }],
      byPeriods: false,
      accrued: '€8.50',
      paid: '€0.00',
      partlyPaid: false,
      outstanding: '€8.50',
      perDay: '€0.50',
      asOf: '23 November 2026',
      formula: '1,250.00 × 17 days × 0.04 % = 8.50',
      cap: null,
      capped: false,
    });
    expect(sut.totalDue).toBe('€1,258.50');
    expect(sut.deadline).toBe('7 December 2026');
    expect(sut.contract).toEqual({ ref: 'C-2026-007', date: '5 January 2026', inForce: true });
  });

  it('writes the formula in Chinese for a zh-CN letter', () => {
    const sut = letterVariables(newLetterFields({ locale: 'zh-CN', currency: 'CNY' }), titles);

    expect(sut.fee?.formula).toBe('1,250.00 × 17 天 × 0.04% = 8.50');
    expect(sut.fee?.accrued).toBe('¥8.50');
    expect(sut.date).toBe('2026年11月23日');
  });

  it('shows the product before the cap, so a capped fee still adds up', () => {
    const fee = {
      ...newLetterFields().fee!,
      startDate: '2026-01-01',
      days: 400,
      periods: [{ from: '2026-01-01', to: '2027-02-04', days: 400, base: '1250.00', product: '200.00', fee: '125.00' }],
      accrued: '125.00',
      outstanding: '125.00',
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

  it('states one line per balance period after a part payment, and what the payment paid', () => {
    const sut = letterVariables(partPaidLetterFields(), titles);

    expect(sut.fee?.byPeriods).toBe(true);
    expect(sut.fee?.periods.map((p) => p.formula)).toEqual(['1,250.00 × 10 days × 0.04 % = 5.00', '755.00 × 8 days × 0.04 % = 2.42']);
    expect(sut.fee?.partlyPaid).toBe(true);
    expect(sut.payments).toEqual([{ date: '16 November 2026', amount: '€500.00', toCosts: '€0.00', toInterest: '€5.00', toPrincipal: '€495.00' }]);
  });

  it('writes the total in capitals on a Chinese letter only', () => {
    expect(letterVariables(newLetterFields({ locale: 'zh-CN', currency: 'CNY' }), titles).totalDueInWords).toBe('人民币壹仟贰佰伍拾捌元伍角');
    expect(letterVariables(newLetterFields(), titles).totalDueInWords).toBeNull();
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
      'payment.payee',
      'payment.bank',
      'payment.account',
      'dispute.email',
      'dispute.phone',
    ]);
    expect(sut.find((entry) => entry.field === 'currency')?.text).toBe('€0.00');
  });
});
