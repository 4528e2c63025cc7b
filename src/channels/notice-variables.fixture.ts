import type { NoticeVariables } from './email/email-templates';

/** A first reminder's variables: no earlier reminders, the contract in force, a bank account to pay to. */
export const noticeVariables: NoticeVariables = {
  debtorName: 'Ada Lovelace & Co',
  invoiceRef: 'INV-2026-0042',
  contractRef: null,
  amount: '1250.50',
  currency: 'EUR',
  amountText: '€1,250.50',
  principalText: null,
  feesText: null,
  dueDate: '1 November 2026',
  remindersSent: 0,
  lastReminderDate: null,
  demandsSent: 0,
  contractInForce: true,
  creditor: 'Example GmbH',
  payment: { payee: 'Example GmbH', bank: 'Berliner Bank', account: 'DE89 3704 0044 0532 0130 00', link: null, reference: 'INV-2026-0042' },
  dispute: { email: 'disputes@example.com', phone: '+49 30 1234 5678', url: null },
  selfServiceUrl: null,
  unsubscribeUrl: 'https://pay.example.com/u/4f9c2a',
};
