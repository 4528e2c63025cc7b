import {
  addressKey,
  addressStatusAfter,
  DELIVERY_STATUSES,
  type DeliveryStatus,
  judgeReport,
  routeEmailNotice,
  routeLetter,
  smsNoticeDeclined,
} from './delivery-status';

describe('judgeReport', () => {
  it.each(DELIVERY_STATUSES)('treats a repeated %s as a duplicate', (status) => {
    expect(judgeReport(status, status)).toMatchObject({ apply: false, status: 'duplicate' });
  });

  it.each(DELIVERY_STATUSES)('applies the first report, %s', (status) => {
    expect(judgeReport(null, status)).toEqual({ apply: true });
  });

  it.each([
    ['delivered', 'soft-bounced'],
    ['delivered', 'failed'],
    ['opened', 'delivered'],
    ['bounced', 'delivered'],
    ['bounced', 'opened'],
    ['complained', 'bounced'],
  ] as const)('keeps %s when %s arrives after it', (current, reported) => {
    expect(judgeReport(current, reported)).toEqual({ apply: false, status: 'ignored', reason: `the dispatch is already ${current}` });
  });

  it.each([
    ['soft-bounced', 'delivered'],
    ['failed', 'delivered'],
    ['delivered', 'opened'],
    ['delivered', 'bounced'],
    ['soft-bounced', 'bounced'],
    ['delivered', 'complained'],
    ['bounced', 'complained'],
  ] as const)('moves %s on to %s', (current, reported) => {
    expect(judgeReport(current, reported)).toEqual({ apply: true });
  });

  it('ends in the same status whatever order the reports came in', () => {
    const reports: DeliveryStatus[] = ['soft-bounced', 'delivered', 'opened', 'complained'];
    const orders = [reports, [...reports].reverse(), ['opened', 'complained', 'soft-bounced', 'delivered'] satisfies DeliveryStatus[]];
    const finals = orders.map((order) =>
      order.reduce((current: DeliveryStatus | null, reported) => (judgeReport(current, reported).apply ? reported : current), null),
    );
    expect(new Set(finals)).toEqual(new Set(['complained']));
  });
});

describe('addressStatusAfter', () => {
  it('marks an address only for a hard bounce or a complaint', () => {
    expect(DELIVERY_STATUSES.map((status) => [status, addressStatusAfter(status)])).toEqual([
      ['failed', null],
      ['soft-bounced', null],
      ['delivered', null],
      ['opened', null],
      ['bounced', 'undeliverable'],
      ['complained', 'complained'],
    ]);
  });
});

describe('addressKey', () => {
  it('matches an address whatever its case and surrounding space, and holds no part of it', () => {
    expect(addressKey(' Ada@Example.COM ')).toBe(addressKey('ada@example.com'));
    expect(addressKey('ada@example.com')).not.toBe(addressKey('ada@example.org'));
    expect(addressKey('ada@example.com')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('routeEmailNotice', () => {
  it('sends by email to an address that is not marked', () => {
    expect(routeEmailNotice(null, undefined, false)).toEqual({ by: 'email' });
  });

  it('goes by SMS with the reason when the step falls back to SMS and the debtor has a phone', () => {
    expect(routeEmailNotice('undeliverable', 'sms', true)).toEqual({ by: 'sms', reason: expect.stringMatching(/undeliverable/) });
    expect(routeEmailNotice('complained', 'sms', true)).toEqual({ by: 'sms', reason: expect.stringMatching(/spam/) });
  });

  it('takes a channel the debtor declined as one that cannot be used: email falls back to SMS unless SMS is declined too', () => {
    expect(routeEmailNotice(null, 'sms', true, ['email'])).toEqual({ by: 'sms', reason: 'the debtor asked for no reminders by email' });
    expect(routeEmailNotice(null, 'sms', true, ['sms'])).toEqual({ by: 'email' });
    expect(routeEmailNotice(null, 'sms', true, ['email', 'sms'])).toEqual({ skip: expect.stringMatching(/no reminders by email.*declined too/) });
    expect(routeEmailNotice('undeliverable', 'sms', true, ['sms'])).toEqual({ skip: expect.stringMatching(/undeliverable.*declined too/) });
    expect(smsNoticeDeclined(['sms'])).toBe('the debtor asked for no reminders by text message');
    expect(smsNoticeDeclined(['email'])).toBeNull();
  });

  it('skips, saying why, without a fallback or without a phone', () => {
    expect(routeEmailNotice('undeliverable', undefined, true)).toEqual({ skip: expect.stringMatching(/undeliverable.*no fallback channel/) });
    expect(routeEmailNotice('complained', 'sms', false)).toEqual({ skip: expect.stringMatching(/spam.*no phone number/) });
  });
});

describe('routeLetter', () => {
  it('leaves the delivery alone when the address is not marked or the letter is not emailed', () => {
    expect(routeLetter(null, ['email', 'post'], undefined)).toEqual({ deliver: ['email', 'post'] });
    expect(routeLetter('undeliverable', ['post'], undefined)).toEqual({ deliver: ['post'] });
  });

  it('drops the email of a letter that is posted too, saying why', () => {
    expect(routeLetter('undeliverable', ['email', 'post'], undefined)).toEqual({ deliver: ['post'], rerouted: expect.stringMatching(/post only/) });
  });

  it('posts an email-only letter when the step falls back to post, else skips it', () => {
    expect(routeLetter('complained', ['email'], 'post')).toEqual({ deliver: ['post'], rerouted: expect.stringMatching(/fallback/) });
    expect(routeLetter('complained', ['email'], undefined)).toEqual({ skip: expect.stringMatching(/email only.*no fallback/) });
  });
});
