import type { GateRules, HolidayCalendar } from './contact-gate';
import {
  activeHolds,
  type Check,
  type ContactRecord,
  type Inspection,
  normalise,
  phrasesIn,
  type Rubric,
  runCheck,
  scoreTouch,
  type TrailTouch,
} from './quality';

const GATE: GateRules = {
  windows: { email: { from: '08:00', to: '21:00' }, sms: { from: '08:00', to: '21:00' } },
  contactDays: 'every-day',
  caps: { emailPerDay: 1, smsPerDay: 3, contactsPerWeek: 7 },
};
const NO_HOLIDAYS: HolidayCalendar = { holiday: () => null, isWorkday: () => true };

const record = (overrides: Partial<ContactRecord> = {}): ContactRecord => ({
  contactId: '6f1c1e0e-7a43-4d2a-9a57-0a3f4b4b8c11',
  channel: 'call',
  direction: 'outbound',
  party: 'debtor',
  outcome: 'right-party-contact',
  // 10:00 in Shanghai
  startedAt: '2026-03-10T02:00:00.000Z',
  durationSeconds: 120,
  notes: 'Spoke with the debtor about the invoice.',
  ...overrides,
});

const inspect = (overrides: Partial<Inspection> & { contact?: Partial<ContactRecord> } = {}): Inspection => {
  const { contact, ...rest } = overrides;
  return {
    touch: { id: '100', kind: 'contact.recorded', at: new Date('2026-03-10T03:00:00Z'), channel: 'call', data: { ...record(contact) } },
    content: null,
    facts: {},
    debtor: { timezone: 'Asia/Shanghai', country: null },
    gate: GATE,
    calendar: NO_HOLIDAYS,
    trail: [],
    contacts: [],
    now: new Date('2026-03-10T04:00:00Z'),
    ...rest,
  };
};

const notice = (content: string, overrides: Partial<Inspection> = {}): Inspection =>
  inspect({
    touch: { id: '200', kind: 'notice.sent', at: new Date('2026-03-10T03:00:00Z'), channel: 'email', data: {} },
    content,
    facts: { creditor: ['Example GmbH'], amount: ['€1,250.00'], 'opt-out': ['https://pay.example.com/u/abc'] },
    ...overrides,
  });

const trail = (id: string, kind: string, data: Record<string, unknown> = {}, at = '2026-03-01T00:00:00Z'): TrailTouch => ({ id, kind, at: new Date(at), data });

describe('normalise and phrasesIn', () => {
  it('folds width, case and whitespace, so a phrase written otherwise still matches', () => {
    expect(normalise('  ＷＥ  Know\nwhere   YOU live ')).toBe('we know where you live');
    expect(phrasesIn('我告诉他：你等着，\n后果 自负', { 'zh-CN': ['后果自负'] })).toEqual([]);
    expect(phrasesIn('后果自负', { 'zh-CN': ['後果自負', '后果自负'] })).toEqual(['后果自负']);
    expect(phrasesIn('We KNOW where you live', { en: ['we know where you live'], 'zh-CN': ['威胁'] })).toEqual(['we know where you live']);
    expect(phrasesIn('anything', undefined)).toEqual([]);
  });
});

describe('contact-hours', () => {
  const check: Check = { kind: 'contact-hours' };

  it("fails a call at 22:30 in the debtor's zone and passes one at 10:00", () => {
    // 22:30 in Shanghai is 14:30 UTC, well inside a UTC working day.
    const late = runCheck(check, inspect({ contact: { startedAt: '2026-03-10T14:30:00.000Z' } }));
    expect(late).toEqual({ passed: false, detail: expect.stringContaining('now 22:30') });
    expect(runCheck(check, inspect())).toMatchObject({ passed: true });
  });

  it('leaves out inbound calls and posted letters, and judges a notice by its send time and channel', () => {
    expect(runCheck(check, inspect({ contact: { direction: 'inbound', startedAt: '2026-03-10T14:30:00.000Z' } }))).toBeNull();
    expect(runCheck(check, inspect({ contact: { channel: 'letter', startedAt: '2026-03-10T14:30:00.000Z' } }))).toBeNull();
    const night = notice('text', { touch: { id: '1', kind: 'notice.sent', at: new Date('2026-03-10T15:00:00Z'), channel: 'sms', data: {} } });
    expect(runCheck(check, night)).toMatchObject({ passed: false });
  });
});

describe('contact-caps', () => {
  const check: Check = { kind: 'contact-caps', callsPerDay: 2 };
  const call = (iso: string, ref = `d-${iso}`) => ({ ref, at: new Date(iso), channel: 'call' as const });

  it('counts calls and visits of the last 24 h against callsPerDay, and every contact against the week', () => {
    const two = [call('2026-03-09T20:00:00Z'), call('2026-03-10T01:00:00Z')];
    expect(runCheck(check, inspect({ contacts: two }))).toEqual({ passed: false, detail: '2 calls and visits in the 24 h before (cap 2)' });
    // The contact itself is not its own history, and one a day old no longer counts.
    expect(
      runCheck(check, inspect({ contacts: [call('2026-03-09T02:00:00Z'), call('2026-03-10T01:00:00Z'), call('2026-03-10T02:00:00Z', '100')] })),
    ).toMatchObject({
      passed: true,
    });
    const week = Array.from({ length: 7 }, (_, day) => ({ ref: `d${day}`, at: new Date(Date.UTC(2026, 2, 4 + day, 1)), channel: 'email' as const }));
    expect(runCheck(check, inspect({ contacts: week }))).toEqual({ passed: false, detail: '7 contacts in the 7 days before (cap 7)' });
  });

  it("holds a notice to its channel's daily cap, not counting its own dispatch", () => {
    const sent = notice('x', { touch: { id: '1', kind: 'notice.sent', at: new Date('2026-03-10T03:00:00Z'), channel: 'email', data: { dispatchId: 'own' } } });
    const ownDispatch = { ref: 'own', at: new Date('2026-03-10T02:59:59Z'), channel: 'email' as const };
    expect(runCheck(check, { ...sent, contacts: [ownDispatch] })).toMatchObject({ passed: true });
    expect(runCheck(check, { ...sent, contacts: [ownDispatch, { ref: 'earlier', at: new Date('2026-03-10T01:00:00Z'), channel: 'email' }] })).toEqual({
      passed: false,
      detail: '1 email message in the 24 h before (cap 1)',
    });
  });
});

describe('no-contact-hold', () => {
  const check: Check = { kind: 'no-contact-hold' };

  it('fails a call while cease-contact holds the case, and passes once it is released', () => {
    const held = [trail('10', 'hold.placed', { holdId: 'h1', kind: 'cease-contact' })];
    expect(runCheck(check, inspect({ trail: held }))).toEqual({ passed: false, detail: 'contact while the case is held: cease-contact' });
    expect(runCheck(check, inspect({ trail: [...held, trail('20', 'hold.released', { holdIds: ['h1'] })] }))).toMatchObject({ passed: true });
    // A dispute pauses the ladder but a person may still talk to the debtor about it.
    expect(runCheck(check, inspect({ trail: [trail('10', 'hold.placed', { holdId: 'h2', kind: 'dispute' })] }))).toMatchObject({ passed: true });
  });

  it('reads holds up to the touch only', () => {
    expect([
      ...activeHolds([trail('10', 'hold.placed', { holdId: 'h1', kind: 'deceased' }), trail('300', 'hold.released', { holdIds: ['h1'] })], '100'),
    ]).toEqual([['h1', 'deceased']]);
  });
});

describe('party-allowed', () => {
  const check: Check = { kind: 'party-allowed', debtTerms: { en: ['owe', 'overdue'], 'zh-CN': ['欠款'] } };

  it('passes the debtor and a third party asked only where the debtor is; fails a third party told about the debt', () => {
    expect(runCheck(check, inspect())).toMatchObject({ passed: true });
    expect(runCheck(check, inspect({ contact: { party: 'third-party', relation: 'sister', notes: 'Asked where Ana lives now.' } }))).toMatchObject({
      passed: true,
    });
    expect(runCheck(check, inspect({ contact: { party: 'third-party', relation: 'sister', notes: '告诉她Ana有欠款' } }))).toEqual({
      passed: false,
      detail: 'a third party (sister) was told about the debt: "欠款"',
    });
    expect(runCheck(check, inspect({ contact: { party: 'third-party', notes: 'fine', transcript: 'She OWES us money' } }))).toMatchObject({ passed: false });
  });

  it('does not apply to the service’s own messages', () => {
    expect(runCheck(check, notice('you owe'))).toBeNull();
  });
});

describe('disclosures', () => {
  const check: Check = {
    kind: 'disclosures',
    require: ['creditor', 'amount', 'payment', 'opt-out'],
    phrases: { payment: { en: ['how to pay'] }, 'opt-out': { en: ['unsubscribe'] } },
  };

  it('finds each disclosure by a phrase or by the fact itself, and names the missing ones', () => {
    expect(runCheck(check, notice('Example GmbH asks €1,250.00. How to pay: bank. Stop: https://pay.example.com/u/abc'))).toMatchObject({ passed: true });
    expect(runCheck(check, notice('EXAMPLE gmbh asks €1,250.00. How to pay: bank. Unsubscribe here.'))).toMatchObject({ passed: true });
    expect(runCheck(check, notice('Example GmbH asks €1,250.00.'))).toEqual({ passed: false, detail: 'missing: payment, opt-out' });
  });

  it('does not apply when the content is unknown', () => {
    expect(runCheck(check, notice('x', { content: null }))).toBeNull();
  });
});

describe('forbidden-wording', () => {
  const check: Check = {
    kind: 'forbidden-wording',
    categories: { threat: { en: ['we know where you live'], 'zh-CN': ['后果自负'] }, shaming: { 'zh-CN': ['老赖'] } },
  };

  it('names every category found in the notes and transcript, in either language', () => {
    expect(runCheck(check, inspect({ contact: { notes: '你这个老赖，后果自负' } }))).toEqual({ passed: false, detail: 'threat: "后果自负"; shaming: "老赖"' });
    expect(runCheck(check, inspect({ contact: { transcript: 'We know where you live.' } }))).toMatchObject({ passed: false });
    expect(runCheck(check, inspect())).toMatchObject({ passed: true });
    expect(runCheck(check, notice('Dear Ana, we know where you live'))).toMatchObject({ passed: false });
  });
});

describe('promise-follow-up', () => {
  const check: Check = { kind: 'promise-follow-up', within: 'P1D' };
  const promise = (extra: TrailTouch[]): Inspection =>
    inspect({
      touch: { id: '50', kind: 'promise.recorded', at: new Date('2026-03-01T02:00:00Z'), channel: null, data: { promiseId: 'p1', dueDate: '2026-03-05' } },
      trail: [trail('50', 'promise.recorded', { promiseId: 'p1', dueDate: '2026-03-05' }), ...extra],
      now: new Date('2026-03-08T00:00:00Z'),
    });

  it('fails a promise no contact followed up from its date until a day after, and passes one kept, replaced or followed up', () => {
    expect(runCheck(check, promise([]))).toEqual({ passed: false, detail: expect.stringContaining('no contact followed up the promise due 2026-03-05') });
    // A call before the date is not a follow-up.
    expect(runCheck(check, promise([trail('60', 'contact.recorded', { startedAt: '2026-03-04T02:00:00Z' })]))).toMatchObject({ passed: false });
    // 2026-03-06 10:00 in Shanghai, inside the day after.
    expect(runCheck(check, promise([trail('60', 'contact.recorded', { startedAt: '2026-03-06T02:00:00Z' })]))).toMatchObject({ passed: true });
    expect(runCheck(check, promise([trail('60', 'promise.kept', { promiseId: 'p1' })]))).toEqual({ passed: true, detail: 'the promise was kept' });
    expect(runCheck(check, promise([trail('60', 'promise.recorded', { promiseId: 'p2', replaces: 'p1' })]))).toMatchObject({ passed: true });
    expect(runCheck(check, promise([trail('60', 'case.cancelled', {}, '2026-03-04T00:00:00Z')]))).toEqual({
      passed: true,
      detail: 'the case closed (case.cancelled) before the follow-up was due',
    });
  });
});

describe('dispute-answered', () => {
  const check: Check = { kind: 'dispute-answered' };
  const sent = (extra: TrailTouch[]) =>
    notice('x', { touch: { id: '500', kind: 'notice.sent', at: new Date('2026-03-10T03:00:00Z'), channel: 'email', data: {} }, trail: extra });
  const dispute = [trail('10', 'hold.placed', { holdId: 'd1', kind: 'dispute' })];
  const released = trail('30', 'hold.released', { holdIds: ['d1'] });
  const answer = trail('20', 'contact.recorded', { direction: 'outbound', party: 'debtor' });

  it('fails a notice after a dispute released unanswered, and passes one answered while it was open', () => {
    expect(runCheck(check, sent([...dispute, released]))).toMatchObject({ passed: false });
    expect(runCheck(check, sent([...dispute, answer, released]))).toMatchObject({ passed: true });
    expect(runCheck(check, sent([]))).toBeNull();
    expect(runCheck(check, inspect())).toBeNull();
  });
});

describe('record-complete', () => {
  it('wants notes of at least minNotes characters', () => {
    const check: Check = { kind: 'record-complete', minNotes: 10 };
    expect(runCheck(check, inspect({ contact: { notes: '  ok  ' } }))).toEqual({ passed: false, detail: 'notes of 2 characters (at least 10)' });
    expect(runCheck(check, inspect({ contact: { notes: '客户承诺周五前还款五百元' } }))).toMatchObject({ passed: true });
  });
});

describe('scoreTouch', () => {
  const rubric: Rubric = {
    rules: [
      { id: 'hours', description: 'd', legalBasis: 'l', weight: 30, autofail: true, touchKinds: ['contact.recorded'], check: { kind: 'contact-hours' } },
      {
        id: 'notes',
        description: 'd',
        legalBasis: 'l',
        weight: 10,
        autofail: false,
        touchKinds: ['contact.recorded'],
        check: { kind: 'record-complete', minNotes: 10 },
      },
      {
        id: 'caps',
        description: 'd',
        legalBasis: 'l',
        weight: 10,
        autofail: false,
        touchKinds: ['contact.recorded'],
        check: { kind: 'contact-caps', callsPerDay: 3 },
      },
      {
        id: 'optout',
        description: 'd',
        legalBasis: 'l',
        weight: 50,
        autofail: false,
        touchKinds: ['notice.sent'],
        check: { kind: 'disclosures', require: ['opt-out'], phrases: {} },
      },
    ],
  };

  it('scores the passed share of the applicable weight, and 0 on an autofail', () => {
    expect(scoreTouch(rubric, inspect())).toEqual({ score: 100, passed: ['hours', 'notes', 'caps'], failed: [], autofailed: false, findings: [] });
    const short = scoreTouch(rubric, inspect({ contact: { notes: 'ok' } }));
    expect(short).toMatchObject({ score: 80, failed: ['notes'], autofailed: false });
    expect(short.findings).toEqual([{ ruleId: 'notes', autofail: false, passed: false, detail: 'notes of 2 characters (at least 10)' }]);
    expect(scoreTouch(rubric, inspect({ contact: { notes: 'ok', startedAt: '2026-03-10T14:30:00.000Z' } }))).toMatchObject({
      score: 0,
      failed: ['hours', 'notes'],
      autofailed: true,
    });
  });

  it('counts a rule that does not apply for neither side', () => {
    // An inbound call: hours and caps do not apply, the notes rule alone decides.
    expect(scoreTouch(rubric, inspect({ contact: { direction: 'inbound', notes: 'ok' } }))).toMatchObject({ score: 0, passed: [], failed: ['notes'] });
    expect(scoreTouch(rubric, notice('x', { content: null }))).toMatchObject({ score: 100, passed: [], failed: [] });
  });
});
