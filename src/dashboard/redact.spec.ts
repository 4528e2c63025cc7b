import { redactContacts, redactDeep } from './redact';

describe('redactContacts', () => {
  it.each([
    ['550 5.1.1 <ana.debtor@example.test>: Recipient address rejected', '550 5.1.1 <[address]>: Recipient address rejected'],
    ['mailbox ana@example.test unavailable', 'mailbox [address] unavailable'],
    ['invalid number +49 151 1234 5678 (landline)', 'invalid number [phone] (landline)'],
    ['number +4915112345678 blocked', 'number [phone] blocked'],
  ])('redacts %s', (text, expected) => {
    expect(redactContacts(text)).toBe(expected);
  });

  it('leaves ids, codes and stack lines alone', () => {
    const text = 'Message failed: 451 mailbox unavailable\n    at SMTPConnection._formatError (index.js:934:19) 2f57e6df-876f-4b73-b3a8-dd35fbff2450';
    expect(redactContacts(text)).toBe(text);
  });

  it("keeps the service's own Message-IDs, which an operator looks up after a send in doubt", () => {
    const text = 'notice in doubt: the send of <2f57e6df-876f-4b73-b3a8-dd35fbff2450@mail.example.test> was interrupted (to ana@example.test)';
    expect(redactContacts(text)).toBe('notice in doubt: the send of <2f57e6df-876f-4b73-b3a8-dd35fbff2450@mail.example.test> was interrupted (to [address])');
  });
});

describe('redactDeep', () => {
  it('redacts every string in nested objects and arrays and keeps the rest', () => {
    const at = new Date(0);
    expect(
      redactDeep({ queues: [{ name: 'steps', jobs: [{ id: 'x', attempts: 3, failedReason: 'to ana@example.test', stacktrace: ['to +4915112345678'], at }] }] }),
    ).toEqual({
      queues: [{ name: 'steps', jobs: [{ id: 'x', attempts: 3, failedReason: 'to [address]', stacktrace: ['to [phone]'], at }] }],
    });
  });
});
