import { randomUUID } from 'node:crypto';
import { AuditService } from '../../src/audit/audit.service';
import { Commitments } from '../../src/cases/commitments.service';
import { Transactions } from '../../src/database/transactions';
import type { TouchInput } from '../../src/domain/touch-kinds';
import { PlacementRepository } from '../../src/escalations/placement.repository';
import { Reports } from '../../src/reports/reports.service';
import { FixedClock } from '../support/fixed-clock';
import { bearer, type KEYS, startTestApp, type TestApp } from '../support/test-app';

/**
 * A fixture portfolio of six cases over December 2025 to February 2026, built through the API
 * and the services on the test clock, and every report's figures worked out by hand below.
 *
 * | case | policy        | due (UTC)  | opened           | DPD at opening | what happens |
 * | ---- | ------------- | ---------- | ---------------- | -------------- | ------------ |
 * | E    | quiet         | 2025-12-10 | 2025-12-15 10:00 | 6              | outside the cohort (opened before from); paid in full 02-15 |
 * | A    | quiet         | 2026-01-05 | 2026-01-10 10:00 | 6  → 1-30      | email (its receipt: delivered); ana's call (debtor, promise); promise 1000; paid 1000 on 01-18 09:00: kept, cured on day 7 |
 * | B    | quiet         | 2025-12-01 | 2026-01-10 10:00 | 41 → 31-60     | email; failed SMS; ana's call (third party); bo's call (no answer); promise 300 broken; placed with Acme at 12.5 %; paid 333.33 on 02-10 |
 * | C    | reports-quiet | 2026-01-09 | 2026-01-10 10:00 | 2  → 1-30      | bo's visit (debtor, refusal); a letter by post, delivered 01-19 |
 * | F    | reports-quiet | 2026-01-02 | 2026-01-10 10:00 | 9  → 1-30      | nothing; cancelled 02-20 |
 * | D    | reports-quiet | 2026-02-01 | 2026-02-03 09:00 | 3  → 1-30      | ana's call (debtor, promise); promise 1000; paid 1000 on 02-10 09:00: kept, cured on day 7 |
 *
 * DPD as the ladder counts it: the due day (UTC, the debtors' zone) is day 1. The calls and the
 * visit are the people's contact attempts; the emails, the SMS and the letter are the service's
 * messages (the failed SMS never left), counted apart.
 * The reports run on 2026-04-15 12:00 UTC over from=2026-01-01 to=2026-03-31: the cohort is A, B, C, D, F.
 */
const PERIOD = 'from=2026-01-01&to=2026-03-31';
const REPORT_DAY = '2026-04-15T12:00:00Z';

interface Opened {
  caseId: string;
  invoice: string;
}

describe('reports', () => {
  let sut: TestApp;
  let clock: { restore(): void } | undefined;
  // Filled in order by beforeAll.
  const cases = {} as Record<'A' | 'B' | 'C' | 'D' | 'E' | 'F', Opened>;

  let current = new Date(0);
  const moveTo = (iso: string) => {
    clock?.restore();
    current = new Date(iso);
    clock = FixedClock.install(sut.app, current);
  };
  const now = () => current.toISOString();
  const post = async (event: Record<string, unknown>) => {
    const answer = await sut.http
      .post('/v1/events')
      .set(bearer('ingest'))
      .send({ id: `evt-${randomUUID()}`, occurredAt: now(), ...event })
      .expect(202);
    expect(answer.body.results[0]).toEqual(expect.objectContaining({ status: 'accepted' }));
    return answer.body.results[0] as { caseId: string };
  };
  const open = async (segment: string, dueDate: string): Promise<Opened> => {
    const n = randomUUID().slice(0, 8);
    const invoice = `INV-R-${n}`;
    const { caseId } = await post({
      type: 'invoice.overdue',
      data: {
        invoice: { externalId: invoice, currency: 'EUR', amountDue: '1000.00', dueDate },
        debtor: { externalId: `DEB-R-${n}`, name: 'Ana Debtor', email: `r-${n}@example.test`, locale: 'en', timezone: 'UTC' },
        segment,
      },
    });
    return { caseId, invoice };
  };
  const pay = (kase: Opened, amount: string) =>
    post({ type: 'payment.received', data: { invoiceExternalId: kase.invoice, paymentId: `PAY-${randomUUID()}`, amount, currency: 'EUR', paidAt: now() } });
  const promise = (kase: Opened, amount: string, dueDate: string) =>
    sut.http.post(`/v1/cases/${kase.caseId}/promises`).set(bearer('operator')).send({ amount, dueDate }).expect(201);
  // Touches as their writers record them: through the audit service, in a transaction.
  const touch = (kase: Opened, input: TouchInput) => sut.app.get(Transactions).run((tx) => sut.app.get(AuditService).record(tx, kase.caseId, [input]));
  const contact = (kase: Opened, collector: string, channel: string, party: string, outcome: string) =>
    touch(kase, {
      kind: 'contact.recorded',
      actor: collector,
      channel,
      data: {
        contactId: randomUUID(),
        channel,
        direction: 'outbound',
        party,
        ...(party === 'third-party' ? { relation: 'neighbour' } : {}),
        outcome,
        startedAt: now(),
        durationSeconds: 120,
        notes: 'spoke about the invoice',
      },
    });
  const scored = (kase: Opened, collector: string, score: number, failed: string[], autofailed: boolean) =>
    touch(kase, {
      kind: 'qa.scored',
      actor: 'system',
      data: { touchId: '1', touchKind: 'contact.recorded', collector, agency: null, template: null, policy: 'quiet', score, passed: [], failed, autofailed },
    });
  const get = (path: string, role: keyof typeof KEYS = 'finance') => sut.http.get(path).set(bearer(role));
  const rowsOf = async (path: string, role: keyof typeof KEYS = 'finance') => {
    const answer = await get(path, role).expect(200);
    return answer.body.rows as Record<string, unknown>[];
  };
  const byKey = (rows: Record<string, unknown>[]) => Object.fromEntries(rows.map(({ key, ...row }) => [key as string, row]));

  beforeAll(async () => {
    sut = await startTestApp('reports', 15);
    moveTo('2025-12-15T10:00:00Z');
    cases.E = await open('quiet', '2025-12-10T00:00:00Z');
    moveTo('2025-12-20T10:00:00Z');
    await contact(cases.E, 'ana', 'call', 'debtor', 'promise');

    moveTo('2026-01-10T10:00:00Z');
    cases.A = await open('quiet', '2026-01-05T00:00:00Z');
    cases.B = await open('quiet', '2025-12-01T00:00:00Z');
    cases.C = await open('reports-b', '2026-01-09T00:00:00Z');
    cases.F = await open('reports-b', '2026-01-02T00:00:00Z');
    moveTo('2026-01-11T09:00:00Z');
    await touch(cases.A, { kind: 'notice.sent', actor: 'system', channel: 'email', data: { template: 'reminder-friendly' } });
    await touch(cases.B, { kind: 'notice.sent', actor: 'system', channel: 'email', data: { template: 'reminder-friendly' } });
    await touch(cases.B, { kind: 'notice.failed', actor: 'system', channel: 'sms', data: { template: 'reminder-firm' } });
    await touch(cases.A, { kind: 'notice.delivered', actor: 'email-provider', channel: 'email', data: { status: 'delivered' } });
    await touch(cases.B, { kind: 'notice.delivered', actor: 'email-provider', channel: 'email', data: { status: 'deferred' } });
    moveTo('2026-01-12T11:00:00Z');
    await contact(cases.A, 'ana', 'call', 'debtor', 'promise');
    await promise(cases.A, '1000.00', '2026-01-20');
    await scored(cases.A, 'ana', 90, [], false);
    moveTo('2026-01-13T11:00:00Z');
    await contact(cases.B, 'ana', 'call', 'third-party', 'right-party-contact');
    await scored(cases.B, 'ana', 40, ['hours'], true);
    moveTo('2026-01-14T11:00:00Z');
    await contact(cases.B, 'bo', 'call', 'debtor', 'no-answer');
    await promise(cases.B, '300.00', '2026-01-25');
    moveTo('2026-01-15T11:00:00Z');
    await contact(cases.C, 'bo', 'visit', 'debtor', 'refusal');
    await scored(cases.C, 'bo', 75, ['records'], false);
    moveTo('2026-01-16T11:00:00Z');
    await touch(cases.C, { kind: 'letter.sent', actor: 'system', channel: 'post', data: { letterType: 'payment-demand' } });
    moveTo('2026-01-18T09:00:00Z');
    await pay(cases.A, '1000.00');
    moveTo('2026-01-19T10:00:00Z');
    await touch(cases.C, { kind: 'letter.delivered', actor: 'post', channel: 'post', data: { letterType: 'payment-demand' } });
    moveTo('2026-01-20T10:00:00Z');
    await sut.app.get(Transactions).run((tx) =>
      sut.app.get(PlacementRepository).insert(tx, {
        id: randomUUID(),
        caseId: cases.B.caseId,
        stepId: null,
        agency: 'Acme',
        commissionRate: '0.125',
        reason: 'late stage',
        at: new Date('2026-01-20T10:00:00Z'),
        by: 'test',
        balanceMinor: 100_000n,
        currency: 'EUR',
        webhook: 'none',
      }),
    );

    moveTo('2026-02-03T09:00:00Z');
    cases.D = await open('reports-b', '2026-02-01T00:00:00Z');
    moveTo('2026-02-04T10:00:00Z');
    await contact(cases.D, 'ana', 'call', 'debtor', 'promise');
    await promise(cases.D, '1000.00', '2026-02-20');
    // B's promise (due 01-25, two days' grace) is broken by now.
    moveTo('2026-02-05T10:00:00Z');
    await sut.app.get(Commitments).checkDue();
    moveTo('2026-02-10T09:00:00Z');
    await pay(cases.D, '1000.00');
    await pay(cases.B, '333.33');
    moveTo('2026-02-15T10:00:00Z');
    await pay(cases.E, '1000.00');
    moveTo('2026-02-20T10:00:00Z');
    await post({ type: 'invoice.cancelled', data: { invoiceExternalId: cases.F.invoice, reason: 'issued in error' } });

    // Findings of the scored touches, as the QA review queue keeps them: hours twice confirmed and once overturned, records open.
    const scoredTouches = await sut.db.query<{ id: string }[]>(`SELECT id FROM touches WHERE kind = 'qa.scored' ORDER BY id`);
    const finding = (touchId: string, ruleId: string, status: string) =>
      sut.db.query(
        `INSERT INTO qa_findings (case_id, touch_id, rule_id, autofail, detail, status, created_at) SELECT case_id, id, $2, false, 'x', $3, at FROM touches WHERE id = $1`,
        [touchId, ruleId, status],
      );
    await finding(scoredTouches[0]!.id, 'hours', 'confirmed');
    await finding(scoredTouches[1]!.id, 'hours', 'confirmed');
    await finding(scoredTouches[2]!.id, 'hours', 'overturned');
    await finding(scoredTouches[2]!.id, 'records', 'open');

    moveTo(REPORT_DAY);
  });

  afterAll(async () => {
    clock?.restore();
    await sut?.close();
  });

  it('the fixture is what the table says: B broke its promise, A, D and E are resolved, F cancelled', async () => {
    const status = async (kase: Opened) => (await get(`/v1/cases/${kase.caseId}`).expect(200)).body.status as string;
    expect(await Promise.all([cases.A, cases.B, cases.C, cases.D, cases.E, cases.F].map(status))).toEqual([
      'resolved',
      'active',
      'active',
      'resolved',
      'resolved',
      'cancelled',
    ]);
  });

  it('KPIs by policy', async () => {
    const answer = await get(`/v1/reports/kpis?by=policy&${PERIOD}`).expect(200);
    expect(answer.body).toEqual(expect.objectContaining({ from: '2026-01-01', to: '2026-03-31' }));
    expect(Object.keys(answer.body.definitions)).toEqual(expect.arrayContaining(['contactRate', 'cureRate', 'keptPromiseRate', 'contactsPerCure']));
    expect(byKey(answer.body.rows)).toEqual({
      quiet: {
        // A and B (E is outside the cohort, its call does not count).
        cases: 2,
        // The people's attempts: A's call; B's two calls = 3.
        attempts: 3,
        // A's call (promise), B's call (a third party answered); bo's call was not answered = 2.
        contacts: 2,
        contactRate: 0.6667, // 2 ÷ 3
        // Of the 3 calls only A's reached the debtor.
        rightPartyContacts: 1,
        rightPartyContactRate: 0.3333, // 1 ÷ 3
        // A's and B's emails (B's SMS failed: never sent); only A's came back delivered (B's receipt says deferred).
        messagesSent: 2,
        messagesDelivered: 1,
        promisedCases: 2,
        promiseRate: 1, // 2 ÷ 2
        promisesKept: 1,
        promisesBroken: 1,
        keptPromiseRate: 0.5, // 1 ÷ (1 + 1)
        cured: 1,
        cureRate: 0.5, // A of A, B
        recovered: [{ currency: 'EUR', amount: '1333.33' }], // 1000.00 + 333.33
        contactsPerCure: 5, // (3 attempts + 2 messages) ÷ 1
      },
      'reports-quiet': {
        cases: 3, // C, D, F
        attempts: 2, // C's visit, D's call
        contacts: 2,
        contactRate: 1,
        rightPartyContacts: 2, // C's visit (refusal) and D's call (promise), both the debtor
        rightPartyContactRate: 1, // 2 ÷ 2
        messagesSent: 1, // C's letter, delivered by the post
        messagesDelivered: 1,
        promisedCases: 1, // D
        promiseRate: 0.3333, // 1 ÷ 3
        promisesKept: 1,
        promisesBroken: 0,
        keptPromiseRate: 1,
        cured: 1, // D; F was cancelled, which is no cure
        cureRate: 0.3333,
        recovered: [{ currency: 'EUR', amount: '1000.00' }],
        contactsPerCure: 3, // (2 attempts + 1 message) ÷ 1
      },
    });
  });

  it('KPIs by days past due at opening', async () => {
    const rows = byKey(await rowsOf(`/v1/reports/kpis?by=dpd&${PERIOD}`));
    expect(Object.keys(rows)).toEqual(['1-30', '31-60']);
    // 1-30: A (6), C (2), D (3), F (9). Attempts: A's call, C's visit, D's call = 3, all the debtor; messages: A's email, C's letter, both delivered.
    expect(rows['1-30']).toEqual(
      expect.objectContaining({
        cases: 4,
        attempts: 3,
        contacts: 3,
        contactRate: 1,
        rightPartyContactRate: 1,
        messagesSent: 2,
        messagesDelivered: 2,
        promisedCases: 2, // A, D
        promiseRate: 0.5,
        keptPromiseRate: 1, // 2 ÷ 2
        cured: 2,
        cureRate: 0.5,
        recovered: [{ currency: 'EUR', amount: '2000.00' }],
        contactsPerCure: 2.5, // (3 + 2) ÷ 2
      }),
    );
    // 31-60: B alone (41 days): 1 of its 2 calls reached someone, never the debtor; its email went out.
    expect(rows['31-60']).toEqual(
      expect.objectContaining({
        cases: 1,
        attempts: 2,
        contacts: 1,
        contactRate: 0.5,
        messagesSent: 1,
        messagesDelivered: 0,
        rightPartyContactRate: 0,
        promiseRate: 1,
        keptPromiseRate: 0,
        cureRate: 0,
        recovered: [{ currency: 'EUR', amount: '333.33' }],
        contactsPerCure: null,
      }),
    );
  });

  it('KPIs by channel and by collector count each case under every key that attempted it', async () => {
    const channels = byKey(await rowsOf(`/v1/reports/kpis?by=channel&${PERIOD}`));
    // The failed SMS was never sent: no attempt and no message, so no sms row.
    expect(Object.keys(channels).sort()).toEqual(['call', 'email', 'post', 'visit']);
    // Calls: A, B (two), D = 4 attempts, 3 reached (B's unanswered one not), 2 of them the debtor;
    // the called cases A, B, D promised; A and D kept, B broke; A and D cured: 1000 + 333.33 + 1000.
    expect(channels.call).toEqual(
      expect.objectContaining({
        cases: 3,
        attempts: 4,
        contacts: 3,
        contactRate: 0.75,
        rightPartyContactRate: 0.5,
        keptPromiseRate: 0.6667,
        cureRate: 0.6667,
        messagesSent: 0,
        recovered: [{ currency: 'EUR', amount: '2333.33' }],
        contactsPerCure: 2, // 4 ÷ 2
      }),
    );
    // Emails are messages, not contacts: no contact or right-party figure; A's email of the two was delivered.
    expect(channels.email).toEqual(
      expect.objectContaining({
        cases: 2,
        attempts: 0,
        contacts: 0,
        contactRate: null,
        rightPartyContactRate: null,
        messagesSent: 2,
        messagesDelivered: 1,
        cureRate: 0.5,
        contactsPerCure: 2, // 2 messages ÷ 1
      }),
    );
    expect(channels.post).toEqual(expect.objectContaining({ cases: 1, attempts: 0, messagesSent: 1, messagesDelivered: 1 }));

    const collectors = byKey(await rowsOf(`/v1/reports/kpis?by=collector&${PERIOD}`));
    expect(Object.keys(collectors).sort()).toEqual(['ana', 'bo']);
    // ana: A, B (third party), D: 3 calls, all answered, 2 by the debtor; bo: B unanswered, C's visit by the debtor.
    expect(collectors.ana).toEqual(
      expect.objectContaining({ cases: 3, attempts: 3, contacts: 3, rightPartyContactRate: 0.6667, messagesSent: 0, cured: 2, contactsPerCure: 1.5 }),
    );
    expect(collectors.bo).toEqual(
      expect.objectContaining({
        cases: 2,
        attempts: 2,
        contacts: 1,
        contactRate: 0.5,
        rightPartyContactRate: 0.5,
        promiseRate: 0.5,
        cured: 0,
        contactsPerCure: null,
      }),
    );
  });

  it('KPIs by agency and segment, and the agency commission', async () => {
    const agencies = byKey(await rowsOf(`/v1/reports/kpis?by=agency&${PERIOD}`));
    expect(agencies.Acme).toEqual(expect.objectContaining({ cases: 1, cured: 0, recovered: [{ currency: 'EUR', amount: '333.33' }] }));
    expect(agencies['(in-house)']).toEqual(expect.objectContaining({ cases: 4, cured: 2, cureRate: 0.5 }));
    const segments = byKey(await rowsOf(`/v1/reports/kpis?by=segment&${PERIOD}`));
    expect([segments.quiet?.cases, segments['reports-b']?.cases]).toEqual([2, 3]);

    // B's 333.33 came in after its placement: 333.33 × 0.125 = 41.66625, rounded half up to 41.67.
    expect(await rowsOf(`/v1/reports/commission?${PERIOD}`)).toEqual([
      { agency: 'Acme', currency: 'EUR', placements: 1, recovered: '333.33', commission: '41.67' },
    ]);
    // Before the payment's day nothing was recovered.
    expect(await rowsOf('/v1/reports/commission?from=2026-01-01&to=2026-02-09')).toEqual([
      { agency: 'Acme', currency: 'EUR', placements: 1, recovered: '0.00', commission: '0.00' },
    ]);
  });

  it('roll rates month over month, every case open at a month end included', async () => {
    // Days past due as the ladder counts them (the due day is day 1).
    // End of January → end of February: C 24 → 52 days (1-30 → 31-60), F 31 days → cancelled (closed),
    // E 54 days → paid 02-15 (cured), B 63 → 91 days (61-90 → 91-180). A and D were not open on Feb 1.
    // End of February → end of March: C 52 → 83 (31-60 → 61-90), B 91 → 122 (stays in 91-180).
    // March is left out: its next month has not ended on April 15.
    const cells = await rowsOf(`/v1/reports/roll-rates?${PERIOD}`);
    expect(cells.map((cell) => [cell.month, cell.fromBucket, cell.toBucket, cell.cases, cell.rate])).toEqual([
      ['2026-01', '1-30', '31-60', 1, 1],
      ['2026-01', '31-60', 'cured', 1, 0.5],
      ['2026-01', '31-60', 'closed', 1, 0.5],
      ['2026-01', '61-90', '91-180', 1, 1],
      ['2026-02', '31-60', '61-90', 1, 1],
      ['2026-02', '91-180', '91-180', 1, 1],
    ]);
    // A period ending on 02-15 holds January's end, not February's: February is left out, not read at its later end.
    const partial = await rowsOf('/v1/reports/roll-rates?from=2026-01-01&to=2026-02-15');
    expect(partial.map((cell) => [cell.month, cell.fromBucket, cell.toBucket])).toEqual([
      ['2026-01', '1-30', '31-60'],
      ['2026-01', '31-60', 'cured'],
      ['2026-01', '31-60', 'closed'],
      ['2026-01', '61-90', '91-180'],
    ]);
    // February's last day in the period: February counts.
    expect(new Set((await rowsOf('/v1/reports/roll-rates?from=2026-02-01&to=2026-02-28')).map((cell) => cell.month))).toEqual(new Set(['2026-02']));
  });

  it('the cure curve per policy and the funnel', async () => {
    const points = await rowsOf(`/v1/reports/cure-curve?${PERIOD}&days=8`);
    const curve = (policy: string) => points.filter((point) => point.policy === policy).map((point) => point.cureRate);
    // quiet: A and B, every case older than 8 days; A was cured 7 days 23 hours after opening: day 7.
    expect(curve('quiet')).toEqual([0, 0, 0, 0, 0, 0, 0, 0.5, 0.5]);
    // reports-quiet: C, D, F; D paid exactly 7 days after opening.
    expect(curve('reports-quiet')).toEqual([0, 0, 0, 0, 0, 0, 0, 0.3333, 0.3333]);

    // A, B, C, D, F; contacted: all but F; promised among them: A, B, D; kept: A, D; paid: A, D.
    expect(await rowsOf(`/v1/reports/funnel?${PERIOD}`)).toEqual([
      { stage: 'cases', cases: 5 },
      { stage: 'contacted', cases: 4 },
      { stage: 'promised', cases: 3 },
      { stage: 'kept', cases: 2 },
      { stage: 'paid', cases: 2 },
    ]);
  });

  it('QA scores per collector and day, and findings by rule with their calibration', async () => {
    expect(await rowsOf(`/v1/reports/qa-scores?by=collector&${PERIOD}`, 'qa')).toEqual([
      { key: 'ana', day: '2026-01-12', scored: 1, averageScore: 90, failed: 0, autofailed: 0 },
      { key: 'ana', day: '2026-01-13', scored: 1, averageScore: 40, failed: 1, autofailed: 1 },
      { key: 'bo', day: '2026-01-15', scored: 1, averageScore: 75, failed: 1, autofailed: 0 },
    ]);
    // No scored touch named an agency.
    expect(await rowsOf(`/v1/reports/qa-scores?by=agency&from=2026-01-12&to=2026-01-13`, 'qa')).toEqual([
      { key: '(none)', day: '2026-01-12', scored: 1, averageScore: 90, failed: 0, autofailed: 0 },
      { key: '(none)', day: '2026-01-13', scored: 1, averageScore: 40, failed: 1, autofailed: 1 },
    ]);
    // hours: 2 confirmed, 1 overturned → 2 ÷ 3; records: none reviewed.
    expect(await rowsOf(`/v1/reports/qa-findings?${PERIOD}`, 'qa')).toEqual([
      { ruleId: 'hours', findings: 3, open: 0, appealed: 0, confirmed: 2, overturned: 1, confirmedShare: 0.6667 },
      { ruleId: 'records', findings: 1, open: 1, appealed: 0, confirmed: 0, overturned: 0, confirmedShare: null },
    ]);
  });

  it("gathers the reports page's data in one call", async () => {
    const page = await sut.app.get(Reports).pageData({ from: '2026-01-01', to: '2026-03-31' });
    expect(page.funnel.map((stage) => stage.cases)).toEqual([5, 4, 3, 2, 2]);
    expect(page.rollRates).toHaveLength(6);
    expect(page.qaScoresByCollector.map((row) => row.key)).toEqual(['ana', 'ana', 'bo']);
    expect(page.findingsByRule.map((row) => row.confirmedShare)).toEqual([0.6667, null]);
    expect(new Set(page.cureCurve.map((point) => point.policy))).toEqual(new Set(['quiet', 'reports-quiet']));
  });

  it('answers CSV for format=csv and for Accept: text/csv, money a column per currency', async () => {
    const csv = await get(`/v1/reports/kpis?by=policy&${PERIOD}&format=csv`).expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="kpis-by-policy-2026-01-01-2026-03-31.csv"');
    const [header, quiet] = csv.text.trim().split('\n');
    expect(header).toBe(
      'key,cases,attempts,contacts,contactRate,rightPartyContacts,rightPartyContactRate,messagesSent,messagesDelivered,promisedCases,promiseRate,promisesKept,promisesBroken,keptPromiseRate,cured,cureRate,recovered_EUR,contactsPerCure',
    );
    expect(quiet).toBe('quiet,2,3,2,0.6667,1,0.3333,2,1,2,1,1,1,0.5,1,0.5,1333.33,5');
    const accepted = await sut.http.get(`/v1/reports/funnel?${PERIOD}`).set(bearer('auditor')).set('Accept', 'text/csv').expect(200);
    expect(accepted.text).toBe('stage,cases\ncases,5\ncontacted,4\npromised,3\nkept,2\npaid,2\n');
    // An empty report still has its header.
    const empty = await get('/v1/reports/qa-findings?from=2020-01-01&to=2020-01-31&format=csv', 'auditor').expect(200);
    expect(empty.text).toBe('ruleId,findings,open,appealed,confirmed,overturned,confirmedShare\n');
  });

  describe('access', () => {
    const routes: [string, (keyof typeof KEYS)[], (keyof typeof KEYS)[]][] = [
      ['/v1/reports/kpis', ['finance', 'auditor', 'admin'], ['qa', 'operator', 'collector', 'ingest']],
      ['/v1/reports/commission', ['finance', 'auditor'], ['qa', 'operator']],
      ['/v1/reports/roll-rates', ['finance', 'auditor'], ['qa', 'collector']],
      ['/v1/reports/cure-curve', ['finance', 'auditor'], ['qa', 'operator']],
      ['/v1/reports/funnel', ['finance', 'auditor'], ['qa', 'ingest']],
      ['/v1/reports/qa-scores', ['qa', 'auditor', 'finance', 'admin'], ['operator', 'collector']],
      ['/v1/reports/qa-findings', ['qa', 'auditor', 'admin'], ['finance', 'collector', 'operator']],
    ];
    it.each(routes)('%s: allowed for %j, 403 for %j, 401 without a key', async (path, allowed, refused) => {
      for (const role of allowed) await get(path, role).expect(200);
      for (const role of refused) await get(path, role).expect(403);
      await sut.http.get(path).expect(401);
    });
  });

  describe('bad query parameters', () => {
    it.each([
      ['/v1/reports/kpis?by=weekday', 'query.by', /must be one of dpd, channel/],
      ['/v1/reports/qa-scores?by=team', 'query.by', /must be one of collector, agency/],
      ['/v1/reports/kpis?from=2026-13-01', 'query.from', /must be a date/],
      ['/v1/reports/funnel?format=xlsx', 'query.format', /must be json or csv/],
      ['/v1/reports/cure-curve?days=-1', 'query.days', /./],
      ['/v1/reports/roll-rates?from=2026-03-01&to=2026-02-01', 'query.to', /must not be before from/],
      ['/v1/reports/commission?from=2020-01-01&to=2026-01-01', 'query.from', /less than 1096 days/],
      ['/v1/reports/qa-findings?team=a', 'query', /Unrecognized key: "team"/],
    ])('%s is a 400 naming %s', async (path, field, reason) => {
      const answer = await get(path, 'admin').expect(400);
      expect(answer.body.details).toEqual([{ field, reason: expect.stringMatching(reason) }]);
    });
  });
});
