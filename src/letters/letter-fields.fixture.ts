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
    contract: { ref: 'C-2026-007', date: '2026-01-05' },
    invoice: { ref: 'INV-2026-0042', dueDate: '2026-11-06' },
    currency: 'EUR',
    principal: '1250.00',
    outstanding: '1250.00',
    fee: {
      startDate: '2026-11-07',
      ratePerDay: '0.0004',
      days: 17,
      base: '1250.00',
      accrued: '8.50',
      perDay: '0.50',
      asOf: '2026-11-23',
      cap: null,
      capped: false,
    },
    totalDue: '1258.50',
    deadline: '2026-12-07',
    documents: [],
    previousLetters: [],
    noticesSent: 2,
    guaranteeEndsOn: null,
    ...overrides,
  };
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
