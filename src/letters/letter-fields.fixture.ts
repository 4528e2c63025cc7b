import type { LetterFields } from '../domain/letter-fields';

/** A complete English payment demand's fields; tests override what they are about. */
export function newLetterFields(overrides: Partial<LetterFields> = {}): LetterFields {
  return {
    type: 'payment-demand',
    locale: 'en',
    number: 'L-2026-000042',
    date: '2026-11-23',
    creditor: {
      name: 'Example Leasing Ltd',
      address: '1 Bank Street\nLondon E14 5AB',
      contactName: 'Mary Jones',
      contactPhone: '+44 20 7946 0000',
      contactEmail: 'collections@example.com',
    },
    recipient: { role: 'debtor', name: 'Ada Lovelace', address: { line1: '12 Ockham Road', city: 'London', postalCode: 'SW1A 1AA' } },
    debtor: { name: 'Ada Lovelace' },
    contract: { ref: 'C-2026-007', date: '2026-01-05', inForce: true },
    invoice: { ref: 'INV-2026-0042', dueDate: '2026-11-06' },
    currency: 'EUR',
    principal: '1250.00',
    payments: [],
    allocation: ['costs', 'interest', 'principal'],
    paid: '0.00',
    outstanding: '1250.00',
    fee: {
      startDate: '2026-11-07',
      ratePerDay: '0.0004',
      days: 17,
      base: '1250.00',
      periods: [{ from: '2026-11-07', to: '2026-11-23', days: 17, base: '1250.00', product: '8.50', fee: '8.50' }],
      accrued: '8.50',
      paid: '0.00',
      outstanding: '8.50',
      perDay: '0.50',
      asOf: '2026-11-23',
      cap: null,
      capped: false,
    },
    costs: '0.00',
    totalDue: '1258.50',
    deadline: '2026-12-07',
    documents: [],
    previousLetters: [],
    noticesSent: 2,
    lastNoticeDate: '2026-11-14',
    guaranteeEndsOn: null,
    guaranteeType: null,
    payment: { payee: 'Example Leasing Ltd', bank: 'Barclays Bank plc', account: 'GB33BUKB20201555555555', link: null, reference: 'INV-2026-0042' },
    dispute: { email: 'disputes@example.com', phone: '+44 20 7946 0001', url: null },
    ...overrides,
  };
}

/**
 * An English demand after a part payment: 1,250.00 overdue from 7 November, 500.00 paid on
 * 16 November (the 5.00 fee accrued by then first, then 495.00 of principal), so 10 days ran on
 * 1,250.00 and 8 on the 755.00 left: 5.00 + 2.42, of which 5.00 paid.
 */
export function partPaidLetterFields(overrides: Partial<LetterFields> = {}): LetterFields {
  return newLetterFields({
    fee: {
      ...newLetterFields().fee!,
      days: 18,
      base: '755.00',
      periods: [
        { from: '2026-11-07', to: '2026-11-16', days: 10, base: '1250.00', product: '5.00', fee: '5.00' },
        { from: '2026-11-17', to: '2026-11-24', days: 8, base: '755.00', product: '2.42', fee: '2.42' },
      ],
      accrued: '7.42',
      paid: '5.00',
      outstanding: '2.42',
      perDay: '0.30',
      asOf: '2026-11-24',
    },
    payments: [{ date: '2026-11-16', amount: '500.00', toCosts: '0.00', toInterest: '5.00', toPrincipal: '495.00' }],
    paid: '500.00',
    outstanding: '755.00',
    totalDue: '757.42',
    ...overrides,
  });
}

export function newChineseLetterFields(overrides: Partial<LetterFields> = {}): LetterFields {
  return newLetterFields({
    locale: 'zh-CN',
    currency: 'CNY',
    creditor: { name: '示例融资租赁有限公司', address: '上海市浦东新区世纪大道100号', contactName: '李娜', contactPhone: '021-5555 0000', contactEmail: null },
    recipient: { role: 'debtor', name: '张伟', address: { city: '北京市', district: '朝阳区', line1: '建国路88号', postalCode: '100022' } },
    debtor: { name: '张伟' },
    ...overrides,
  });
}
