import { bouncedDemand, type LegalTouch, legalRecord } from './legal-record';
import { checkRequirements, requirementsOf } from './requirements';

const at = (iso: string) => new Date(iso);
const ZONE = 'Asia/Shanghai';

/** A trail builder: touches in seq order, as the case's chain holds them. */
function trail() {
  const touches: LegalTouch[] = [];
  const add = (kind: string, when: string, data: Record<string, unknown>, channel: string | null = null) => {
    touches.push({ seq: touches.length + 1, kind, at: at(when), channel, data });
    return api;
  };
  const debtorLetter = (type: string, id: string, number: string) => ({
    letterId: id,
    number,
    type,
    recipient: { role: 'debtor', id: 'd1', name: 'Zhang Wei' },
  });
  const api = {
    touches,
    opened: (guarantors: unknown[] = []) =>
      add('case.opened', '2026-10-01T02:00:00Z', {
        jurisdiction: 'CN',
        limitationDate: '2029-09-30',
        limitation: { startsOn: '2026-10-01', law: 'PRC Civil Code arts. 188, 195' },
        guarantors,
      }),
    reminder: (when: string, channel: 'email' | 'sms', dispatchId: string) => add('notice.sent', when, { dispatchId, template: 'reminder-friendly' }, channel),
    smsDelivered: (when: string, dispatchId: string) => add('notice.delivered', when, { dispatchId, status: 'delivered' }, 'sms'),
    emailedLetter: (when: string, type: string, id: string, number: string) =>
      add('letter.sent', when, { ...debtorLetter(type, id, number), delivery: 'accepted' }, 'email'),
    postedLetter: (when: string, type: string, id: string, number: string, recipient = { role: 'debtor', id: 'd1' }) =>
      add('letter.sent', when, { ...debtorLetter(type, id, number), recipient, delivery: 'queued' }, 'post'),
    delivered: (when: string, id: string) => add('letter.delivered', when, { letterId: id, at: when }, 'post'),
    returned: (when: string, id: string) => add('letter.returned', when, { letterId: id, at: when }, 'post'),
    terminated: (when: string, letterId: string, number: string) => add('contract.terminated', when, { letterId, number }),
    add,
  };
  return api;
}

describe('legal record', () => {
  it('is an untouched contract with no demands, reminders or restarts when the case just opened', () => {
    const record = legalRecord(trail().opened().touches, ZONE, '2026-10-01');
    expect(record.contract).toEqual({ status: 'in-force', terminatedBy: null, declaredOn: null, effectiveOn: null });
    expect(record.demands).toEqual({ sent: 0, delivered: 0, letters: [] });
    expect(record.reminders).toMatchObject({ sent: 0, delivered: 0 });
    expect(record.limitation).toEqual({
      jurisdiction: 'CN',
      law: 'PRC Civil Code arts. 188, 195',
      startsOn: '2026-10-01',
      expiresOn: '2029-09-30',
      restarts: [],
    });
  });

  it('counts reminders by channel and day, and SMS receipts as deliveries', () => {
    const t = trail()
      .opened()
      .reminder('2026-10-02T01:00:00Z', 'email', 'x1')
      .reminder('2026-10-06T17:00:00Z', 'sms', 'x2')
      .smsDelivered('2026-10-06T17:01:00Z', 'x2');
    const { reminders } = legalRecord(t.touches, ZONE, '2026-10-07');
    expect(reminders.sent).toBe(2);
    expect(reminders.delivered).toBe(1);
    // 17:00 UTC is already the 7th in Shanghai: days are the debtor's.
    expect(reminders.items.map((r) => [r.on, r.channel])).toEqual([
      ['2026-10-02', 'email'],
      ['2026-10-07', 'sms'],
    ]);
  });

  it('counts a demand delivered when its email was accepted or its post delivered, not when it came back', () => {
    const t = trail()
      .opened()
      .emailedLetter('2026-10-11T02:00:00Z', 'payment-demand', 'l1', 'L-2026-000001')
      .postedLetter('2026-10-20T02:00:00Z', 'payment-demand', 'l2', 'L-2026-000002')
      .returned('2026-10-25T02:00:00Z', 'l2')
      .postedLetter('2026-10-26T02:00:00Z', 'payment-demand', 'l3', 'L-2026-000003')
      .delivered('2026-10-28T03:00:00Z', 'l3');
    const { demands } = legalRecord(t.touches, ZONE, '2026-10-30');
    expect(demands.sent).toBe(3);
    expect(demands.delivered).toBe(2);
    expect(demands.letters.map((l) => [l.number, l.deliveredBy, l.deliveredOn, l.returned])).toEqual([
      ['L-2026-000001', 'email', '2026-10-11', false],
      ['L-2026-000002', null, null, true],
      ['L-2026-000003', 'post', '2026-10-28', false],
    ]);
  });

  it('takes back a delivery when a hard bounce is reported on the email, not for a soft one or a posted letter', () => {
    const t = trail()
      .opened()
      .add(
        'letter.sent',
        '2026-10-11T02:00:00Z',
        { letterId: 'l1', number: 'L-1', type: 'payment-demand', recipient: { role: 'debtor', id: 'd1' }, dispatchId: 'x1' },
        'email',
      )
      .add(
        'letter.sent',
        '2026-10-12T02:00:00Z',
        { letterId: 'l2', number: 'L-2', type: 'payment-demand', recipient: { role: 'debtor', id: 'd1' }, dispatchId: 'x2' },
        'email',
      )
      .reminder('2026-10-13T02:00:00Z', 'email', 'x3')
      .add('notice.delivered', '2026-10-13T02:01:00Z', { dispatchId: 'x3', status: 'delivered' }, 'email')
      .add('notice.bounced', '2026-10-13T03:00:00Z', { dispatchId: 'x1', dispatch: 'letter', status: 'bounced', bounce: 'hard' }, 'email')
      .add('notice.bounced', '2026-10-13T03:00:00Z', { dispatchId: 'x2', dispatch: 'letter', status: 'soft-bounced', bounce: 'soft' }, 'email')
      .add('notice.bounced', '2026-10-13T04:00:00Z', { dispatchId: 'x3', dispatch: 'notice', status: 'bounced', bounce: 'hard' }, 'email');
    const { demands, reminders } = legalRecord(t.touches, ZONE, '2026-10-30');
    expect(demands.letters.map((l) => [l.number, l.deliveredBy])).toEqual([
      ['L-1', null],
      ['L-2', 'email'],
    ]);
    expect(demands.delivered).toBe(1);
    expect(reminders.delivered).toBe(0);
  });

  it('puts a termination in effect when its letter reaches the debtor', () => {
    const sent = trail()
      .opened()
      .postedLetter('2026-11-01T02:00:00Z', 'contract-termination', 'l9', 'L-2026-000009')
      .terminated('2026-11-01T02:00:00Z', 'l9', 'L-2026-000009');
    expect(legalRecord(sent.touches, ZONE, '2026-11-02').contract).toEqual({
      status: 'termination-sent',
      terminatedBy: { letterId: 'l9', number: 'L-2026-000009' },
      declaredOn: '2026-11-01',
      effectiveOn: null,
    });
    const delivered = sent.delivered('2026-11-03T05:00:00Z', 'l9');
    expect(legalRecord(delivered.touches, ZONE, '2026-11-04').contract).toMatchObject({ status: 'terminated', effectiveOn: '2026-11-03' });
  });

  it('puts the contract back in force when the termination can no longer reach the debtor', () => {
    const posted = () =>
      trail()
        .opened()
        .postedLetter('2026-11-01T02:00:00Z', 'contract-termination', 'l9', 'L-2026-000009')
        .terminated('2026-11-01T02:00:00Z', 'l9', 'L-2026-000009');
    expect(legalRecord(posted().returned('2026-11-05T02:00:00Z', 'l9').touches, ZONE, '2026-11-06').contract.status).toBe('in-force');
    // Its email failed for good, but the post is still on its way.
    const emailFailed = posted().add('letter.failed', '2026-11-01T03:00:00Z', { letters: [{ id: 'l9', number: 'L-2026-000009' }] }, 'email');
    expect(legalRecord(emailFailed.touches, ZONE, '2026-11-02').contract.status).toBe('termination-sent');
    // Email only, and the email failed: it never went out.
    const emailOnly = trail()
      .opened()
      .terminated('2026-11-01T02:00:00Z', 'l8', 'L-2026-000008')
      .add('letter.failed', '2026-11-01T03:00:00Z', { letters: [{ id: 'l8', number: 'L-2026-000008' }] }, 'email');
    expect(legalRecord(emailOnly.touches, ZONE, '2026-11-02').contract).toEqual({
      status: 'in-force',
      terminatedBy: null,
      declaredOn: null,
      effectiveOn: null,
    });
  });

  it('takes a terminate-contract step as effective on its own day', () => {
    const t = trail().opened().add('contract.terminated', '2026-11-01T02:00:00Z', { stepId: 's1', effectiveDate: '2026-11-01' });
    expect(legalRecord(t.touches, ZONE, '2026-11-02').contract).toEqual({
      status: 'terminated',
      terminatedBy: { stepId: 's1' },
      declaredOn: '2026-11-01',
      effectiveOn: '2026-11-01',
    });
  });

  it('tracks each guarantee by its type: a notice preserves a joint one, only a suit a general one', () => {
    const t = trail()
      .opened([
        { guarantorId: 'g1', externalId: 'G-1', guaranteeEndsOn: '2027-03-31', type: 'joint' },
        { guarantorId: 'g2', externalId: 'G-2', guaranteeEndsOn: '2027-03-31', type: 'general' },
        { guarantorId: 'g3', externalId: 'G-3', guaranteeEndsOn: '2026-10-20' },
      ])
      .postedLetter('2026-11-01T02:00:00Z', 'guarantor-notice', 'n1', 'L-2026-000011', { role: 'guarantor', id: 'g1' })
      .delivered('2026-11-03T02:00:00Z', 'n1')
      .postedLetter('2026-11-01T02:00:00Z', 'guarantor-notice', 'n2', 'L-2026-000012', { role: 'guarantor', id: 'g2' })
      .delivered('2026-11-03T02:00:00Z', 'n2');
    const before = legalRecord(t.touches, ZONE, '2026-11-05').guarantees;
    expect(before.map((g) => [g.externalId, g.type, g.status, g.notifiedOn])).toEqual([
      ['G-1', 'joint', 'claim-preserved', '2026-11-03'],
      ['G-2', 'general', 'notified', '2026-11-03'],
      // No type on the guarantor: general, as the law presumes; its period already ended.
      ['G-3', 'general', 'lapsed', null],
    ]);
    t.add('work-item.completed', '2027-02-01T02:00:00Z', { workItemId: 'w1', kind: 'legal', outcome: 'filed' });
    expect(legalRecord(t.touches, ZONE, '2027-06-01').guarantees.map((g) => [g.externalId, g.status, g.suedOn])).toEqual([
      ['G-1', 'claim-preserved', '2027-02-01'],
      ['G-2', 'claim-preserved', '2027-02-01'],
      ['G-3', 'lapsed', '2027-02-01'],
    ]);
  });

  it('lists each limitation restart with its cause and the touch that caused it', () => {
    const t = trail()
      .opened()
      .add('payment.applied', '2027-01-05T02:00:00Z', { paymentId: 'PAY-1', amount: '100.00' })
      .add('limitation.restarted', '2027-01-05T02:00:00Z', {
        cause: 'part-payment',
        restartedOn: '2027-01-05',
        previousDate: '2029-09-30',
        limitationDate: '2030-01-05',
        source: { kind: 'payment.applied', key: { paymentId: 'PAY-1' } },
      });
    expect(legalRecord(t.touches, ZONE, '2027-01-06').limitation).toMatchObject({
      expiresOn: '2030-01-05',
      restarts: [
        { on: '2027-01-05', cause: 'part-payment', previousDate: '2029-09-30', limitationDate: '2030-01-05', source: { kind: 'payment.applied', seq: 2 } },
      ],
    });
  });
});

describe('a restart by an emailed demand that bounced', () => {
  /** Two demands by email, each restarting the period (3 years, from 2029-09-30) when its mail server took it. */
  const demands = () => {
    const t = trail().opened();
    for (const [n, day, previous, next] of [
      [1, '2027-01-05', '2029-09-30', '2030-01-05'],
      [2, '2027-02-05', '2030-01-05', '2030-02-05'],
    ] as const) {
      t.add(
        'letter.sent',
        `${day}T02:00:00Z`,
        { letterId: `l${n}`, number: `L-${n}`, type: 'payment-demand', recipient: { role: 'debtor', id: 'd1' }, dispatchId: `x${n}` },
        'email',
      );
      t.add('limitation.restarted', `${day}T02:00:00Z`, {
        cause: 'letter.sent',
        ground: 'demand-delivered',
        restartedOn: day,
        period: 'P3Y',
        previousDate: previous,
        limitationDate: next,
        source: { kind: 'letter.sent', key: { letterId: `l${n}`, number: `L-${n}` } },
      });
    }
    return t;
  };
  const withdraw = (t: ReturnType<typeof trail>, restartSeq: number, limitationDate: string) =>
    t.add('limitation.restart_withdrawn', '2027-03-01T02:00:00Z', { restartSeq, limitationDate });

  it('takes the restart out and replays the rest: a later restart keeps its own date', () => {
    const t = demands();
    expect(bouncedDemand(t.touches, 'x2')).toEqual({ restartSeq: 5, letterId: 'l2', number: 'L-2', limitationDate: '2030-01-05', postDeliveredAt: null });
    expect(bouncedDemand(t.touches, 'x1')).toMatchObject({ restartSeq: 3, limitationDate: '2030-02-05' });
    expect(bouncedDemand(t.touches, 'nope')).toBeNull();
  });

  it('goes back past every withdrawn restart, whichever bounced first', () => {
    const t = withdraw(demands(), 3, '2030-02-05');
    expect(bouncedDemand(t.touches, 'x1')).toBeNull();
    expect(bouncedDemand(t.touches, 'x2')).toMatchObject({ restartSeq: 5, limitationDate: '2029-09-30' });
    const { limitation } = legalRecord(withdraw(t, 5, '2029-09-30').touches, ZONE, '2027-03-02');
    expect(limitation).toMatchObject({ expiresOn: '2029-09-30', restarts: [] });
  });

  it('leaves an email the debtor opened alone, and names the post that delivered the same letter', () => {
    const opened = demands().add('notice.opened', '2027-02-05T03:00:00Z', { dispatchId: 'x2', status: 'opened' }, 'email');
    expect(bouncedDemand(opened.touches, 'x2')).toBeNull();
    const posted = demands().add('letter.delivered', '2027-02-09T02:00:00Z', { letterId: 'l2', at: '2027-02-09T02:00:00Z' }, 'post');
    expect(bouncedDemand(posted.touches, 'x2')).toMatchObject({ limitationDate: '2030-01-05', postDeliveredAt: new Date('2027-02-09T02:00:00Z') });
  });

  it('counts no delivery for an email whose bounce was reported before the letter was recorded', () => {
    const t = trail()
      .opened()
      .add('notice.bounced', '2027-01-05T02:00:00Z', { dispatchId: 'x9', dispatch: 'letter', status: 'bounced', bounce: 'hard' }, 'email')
      .add(
        'letter.sent',
        '2027-01-05T02:00:01Z',
        { letterId: 'l9', number: 'L-9', type: 'payment-demand', recipient: { role: 'debtor', id: 'd1' }, dispatchId: 'x9' },
        'email',
      );
    expect(legalRecord(t.touches, ZONE, '2027-01-06').demands).toMatchObject({ sent: 1, delivered: 0 });
  });

  it('counts a letter delivered by post when its email, delivered first, then bounced; not when the debtor had opened it', () => {
    const bounce = (t: ReturnType<typeof trail>) =>
      t.add('notice.bounced', '2027-02-10T02:00:00Z', { dispatchId: 'x2', dispatch: 'letter', status: 'bounced', bounce: 'hard' }, 'email');
    const posted = bounce(demands().add('letter.delivered', '2027-02-09T02:00:00Z', { letterId: 'l2', at: '2027-02-09T02:00:00Z' }, 'post'));
    expect(legalRecord(posted.touches, ZONE, '2027-02-11').demands.letters[1]).toMatchObject({ deliveredBy: 'post', deliveredOn: '2027-02-09' });
    const opened = bounce(demands().add('notice.opened', '2027-02-05T03:00:00Z', { dispatchId: 'x2', status: 'opened' }, 'email'));
    expect(legalRecord(opened.touches, ZONE, '2027-02-11').demands.letters[1]).toMatchObject({ deliveredBy: 'email', deliveredOn: '2027-02-05' });
  });
});

describe('step requirements', () => {
  const termination = { at: 'P30D', action: 'letter' as const, letter: 'contract-termination' as const, deliver: ['email' as const] };

  it('gives a termination a delivered demand, a cure period and a contract in force even when the policy names none', () => {
    expect(requirementsOf(termination)).toEqual({ demandDelivered: 'P10D', contractInForce: true });
    expect(requirementsOf({ ...termination, requires: { demandDelivered: 'P14D' } })).toEqual({ demandDelivered: 'P14D', contractInForce: true });
    expect(requirementsOf({ at: 'P60D', action: 'terminate-contract' })).toEqual({ demandDelivered: 'P10D', contractInForce: true });
    expect(requirementsOf({ at: 'P1D', action: 'letter', letter: 'guarantor-notice', deliver: ['post'] })).toEqual({ guaranteeInPeriod: true });
    expect(requirementsOf({ at: 'P1D', action: 'notice', channel: 'email', template: 'x' })).toEqual({});
  });

  const check = (t: ReturnType<typeof trail>, now: string) =>
    checkRequirements(requirementsOf(termination), legalRecord(t.touches, ZONE, now.slice(0, 10)), at(now), ZONE);

  it('refuses a termination when no demand was ever sent', () => {
    expect(check(trail().opened(), '2026-11-01T02:00:00Z')).toEqual({ kind: 'skip', reason: 'no payment demand has been delivered to the debtor' });
  });

  it('waits for the cure period after the demand reached the debtor, then allows the termination', () => {
    const t = trail().opened().emailedLetter('2026-10-11T02:00:00Z', 'payment-demand', 'l1', 'L-2026-000001');
    expect(check(t, '2026-10-15T02:00:00Z')).toEqual({
      kind: 'wait',
      until: at('2026-10-21T02:00:00Z'),
      reason: 'the cure period after payment demand L-2026-000001 (delivered on 2026-10-11) runs until 2026-10-21T02:00:00.000Z',
    });
    expect(check(t, '2026-10-21T02:00:00Z')).toEqual({ kind: 'met' });
  });

  it('waits while a posted demand is on its way, and gives up when it came back', () => {
    const t = trail().opened().postedLetter('2026-10-11T02:00:00Z', 'payment-demand', 'l1', 'L-2026-000001');
    expect(check(t, '2026-10-15T02:00:00Z')).toMatchObject({
      kind: 'wait',
      until: at('2026-10-16T02:00:00Z'),
      reason: 'payment demand L-2026-000001 is not yet delivered',
    });
    t.returned('2026-10-16T02:00:00Z', 'l1');
    expect(check(t, '2026-10-17T02:00:00Z')).toEqual({ kind: 'skip', reason: 'no payment demand reached the debtor (L-2026-000001 returned)' });
  });

  it('looks again for the delivery after a short cure period rather than a day', () => {
    const t = trail().opened().postedLetter('2026-10-11T02:00:00Z', 'payment-demand', 'l1', 'L-2026-000001');
    const verdict = checkRequirements({ demandDelivered: 'PT2H' }, legalRecord(t.touches, ZONE, '2026-10-15'), at('2026-10-15T02:00:00Z'), ZONE);
    expect(verdict).toMatchObject({ kind: 'wait', until: at('2026-10-15T04:00:00Z') });
  });

  it('does not let the cure period end before the deadline the demand gave', () => {
    // Emailed on 11 October with 14 days to pay: the debtor has all of 25 October (Shanghai).
    const t = trail()
      .opened()
      .add(
        'letter.sent',
        '2026-10-11T02:00:00Z',
        {
          letterId: 'l1',
          number: 'L-2026-000001',
          type: 'payment-demand',
          recipient: { role: 'debtor', id: 'd1' },
          deadline: '2026-10-25',
          delivery: 'accepted',
        },
        'email',
      );
    expect(check(t, '2026-10-21T02:00:00Z')).toMatchObject({ kind: 'wait', until: at('2026-10-25T16:00:00Z') });
    expect(check(t, '2026-10-25T16:00:00Z')).toEqual({ kind: 'met' });
  });

  it('waits for a payment demand still to come rather than dropping the termination', () => {
    const verdict = checkRequirements(
      requirementsOf(termination),
      legalRecord(trail().opened().touches, ZONE, '2026-11-01'),
      at('2026-11-01T02:00:00Z'),
      ZONE,
      true,
    );
    expect(verdict).toEqual({ kind: 'wait', until: at('2026-11-02T02:00:00Z'), reason: 'the payment demand on this case has not gone out yet' });
  });

  it('never sends a second termination', () => {
    const t = trail()
      .opened()
      .emailedLetter('2026-10-11T02:00:00Z', 'payment-demand', 'l1', 'L-2026-000001')
      .emailedLetter('2026-10-25T02:00:00Z', 'contract-termination', 'l2', 'L-2026-000002')
      .terminated('2026-10-25T02:00:00Z', 'l2', 'L-2026-000002');
    expect(check(t, '2026-11-30T02:00:00Z')).toEqual({
      kind: 'skip',
      reason: 'the contract was terminated by letter L-2026-000002 with effect from 2026-10-25',
    });
  });

  it('skips a guarantor notice when every guarantee has lapsed', () => {
    const t = trail().opened([{ guarantorId: 'g1', externalId: 'G-1', guaranteeEndsOn: '2026-10-20', type: 'joint' }]);
    const verdict = checkRequirements({ guaranteeInPeriod: true }, legalRecord(t.touches, ZONE, '2026-11-01'), at('2026-11-01T02:00:00Z'), ZONE);
    expect(verdict).toEqual({ kind: 'skip', reason: 'every guarantee has lapsed (the last period ended on 2026-10-20)' });
  });
});
