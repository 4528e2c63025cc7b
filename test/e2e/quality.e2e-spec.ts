import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { JobName, QueueName } from '../../src/jobs/job-names';
import { JobQueue } from '../../src/jobs/job-queue.service';
import { type FindingView, QualityRepository } from '../../src/quality/quality.repository';
import { QaScoring } from '../../src/quality/scoring.service';
import type { FindingsByRuleRow } from '../../src/reports/report-rows';
import { FixedClock } from '../support/fixed-clock';
import { SmtpSink } from '../support/smtp-sink';
import { bearer, KEYS, overdueEvent, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

interface Touch {
  id: string;
  kind: string;
  actor: string;
  channel: string | null;
  data: Record<string, unknown>;
}

type Finding = Omit<FindingView, 'createdAt' | 'reviewedAt'>;

/** Far from UTC, so a wrong zone shows: the debtor's wall clock decides the contact hours. */
const ZONE = 'Asia/Shanghai';

describe('quality inspection: contacts recorded by people, scored with the service’s own, reviewed', () => {
  const smtp = new SmtpSink();
  // The shipped templates and policies with the quality suite's own beside them (a notice template without its opt-out line).
  const stage = mkdtempSync(join(tmpdir(), 'dunning-quality-'));
  let sut: TestApp;

  beforeAll(async () => {
    cpSync('templates', join(stage, 'templates'), { recursive: true });
    cpSync('test/fixtures/quality/templates', join(stage, 'templates'), { recursive: true });
    cpSync('test/fixtures/policies', join(stage, 'policies'), { recursive: true });
    cpSync('test/fixtures/quality/policies', join(stage, 'policies'), { recursive: true });
    sut = await startTestApp('quality', 15, {
      SMTP_URL: await smtp.start(),
      TEMPLATES_DIR: join(stage, 'templates'),
      POLICIES_DIR: join(stage, 'policies'),
      COMPLIANCE_FILE: 'test/fixtures/quality/compliance.yaml',
      QA_SCORING: 'on',
    });
  });

  afterAll(async () => {
    await sut?.close();
    await smtp.stop();
    rmSync(stage, { recursive: true, force: true });
  });

  const touches = async (caseId: string) =>
    (await sut.http.get(`/v1/cases/${caseId}/touches?limit=500`).set(bearer('auditor')).expect(200)).body.items as Touch[];

  async function openCase(segment = 'quiet'): Promise<string> {
    const response = await sut.http
      .post('/v1/events')
      .set(bearer('ingest'))
      .send(overdueEvent({ segment, debtor: { timezone: ZONE } }))
      .expect(202);
    expect(response.body.results[0]).toMatchObject({ status: 'accepted' });
    return response.body.results[0].caseId as string;
  }

  /** Yesterday at a wall-clock time in the debtor's zone: in the past whenever the suite runs. */
  const yesterdayAt = (hour: number, minute = 0) => DateTime.now().setZone(ZONE).minus({ days: 1 }).set({ hour, minute, second: 0, millisecond: 0 }).toISO()!;

  const contact = (overrides: Record<string, unknown> = {}) => ({
    channel: 'call',
    direction: 'outbound',
    party: 'debtor',
    outcome: 'right-party-contact',
    startedAt: yesterdayAt(10),
    durationSeconds: 180,
    notes: 'Spoke with the debtor, who will check the invoice and call back.',
    ...overrides,
  });

  /** Records a contact and answers its touch. */
  async function record(caseId: string, body: Record<string, unknown>, role: 'collector' | 'operator' = 'collector'): Promise<Touch> {
    const response = await sut.http.post(`/v1/cases/${caseId}/contacts`).set(bearer(role)).send(body).expect(201);
    const trail = await touches(caseId);
    return trail.find((touch) => touch.kind === 'contact.recorded' && touch.data.contactId === response.body.contactId)!;
  }

  /** Runs the scoring sweep until the touch has its `qa.scored` (another round may hold the sweep's lock). */
  const scoreOf = (caseId: string, touchId: string) =>
    waitFor(`touch ${touchId} to be scored`, async () => {
      await sut.app.get(QaScoring).sweep();
      return (await touches(caseId)).find((touch) => touch.kind === 'qa.scored' && touch.data.touchId === touchId);
    });

  const findings = async (query: string) => (await sut.http.get(`/v1/qa/findings?${query}`).set(bearer('qa')).expect(200)).body.items as Finding[];

  it('a call at 22:30 in the debtor’s zone is recorded (not refused) and gives an hours finding that fails the contact', async () => {
    const caseId = await openCase();
    const late = await record(caseId, contact({ startedAt: yesterdayAt(22, 30) }));
    expect(late).toMatchObject({ actor: 'collector-key', channel: 'call', data: { party: 'debtor', outcome: 'right-party-contact' } });
    const onTime = await record(caseId, contact({ startedAt: yesterdayAt(10, 30) }));

    const lateScore = await scoreOf(caseId, late.id);
    expect(lateScore.data).toMatchObject({ touchKind: 'contact.recorded', collector: 'collector-key', score: 0, autofailed: true, failed: ['contact-hours'] });
    expect((await scoreOf(caseId, onTime.id)).data).toMatchObject({ score: 100, autofailed: false, failed: [] });

    const found = await findings(`caseId=${caseId}&rule=contact-hours`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ touchId: late.id, collector: 'collector-key', autofail: true, status: 'open' });
    expect(found[0]!.detail).toContain('22:30');
  });

  it.each([
    ['zh-CN', '客户说下周再还。我告诉他：你等着，不还钱后果自负。'],
    ['en', 'Debtor refused again. I told him we know where you live and you will regret this.'],
  ])('a call note with a threat (%s) fails the autofail wording rule', async (_locale, notes) => {
    const caseId = await openCase();
    const threat = await record(caseId, contact({ notes, outcome: 'refusal' }));
    expect((await scoreOf(caseId, threat.id)).data).toMatchObject({ score: 0, autofailed: true, failed: ['forbidden-wording'] });
    const [finding] = await findings(`caseId=${caseId}`);
    expect(finding).toMatchObject({ ruleId: 'forbidden-wording', autofail: true });
    expect(finding!.detail).toMatch(/^threat: /);
  });

  it('a call to a third party that mentions the debt is flagged; one only asking where the debtor is, is not', async () => {
    const caseId = await openCase();
    const told = await record(
      caseId,
      contact({
        party: 'third-party',
        relation: 'neighbour',
        outcome: 'wrong-number',
        notes: 'Asked the neighbour for Ana; told him she owes us for an overdue invoice.',
      }),
    );
    const locating = await record(
      caseId,
      contact({
        party: 'third-party',
        relation: 'neighbour',
        outcome: 'wrong-number',
        notes: 'Asked the neighbour whether Ana still lives here; he did not know.',
      }),
    );
    expect((await scoreOf(caseId, told.id)).data).toMatchObject({ autofailed: true, failed: ['party-allowed'] });
    expect((await scoreOf(caseId, locating.id)).data).toMatchObject({ autofailed: false, failed: [] });
    const found = await findings(`caseId=${caseId}&rule=party-allowed`);
    expect(found.map((finding) => finding.touchId)).toEqual([told.id]);
    expect(found[0]!.detail).toContain('"owe"');
  });

  it('a notice from a template without the opt-out line fails the opt-out disclosure; the shipped template passes it', async () => {
    const broken = await openCase('qa-no-opt-out');
    const shipped = await openCase('at-once');
    const sent = (caseId: string) => waitFor(`the notice of case ${caseId}`, async () => (await touches(caseId)).find((touch) => touch.kind === 'notice.sent'));
    const [brokenNotice, shippedNotice] = await Promise.all([sent(broken), sent(shipped)]);

    const brokenScore = await scoreOf(broken, brokenNotice.id);
    expect(brokenScore.data).toMatchObject({
      touchKind: 'notice.sent',
      collector: 'system',
      template: 'reminder-no-opt-out',
      policy: 'qa-no-opt-out',
      autofailed: false,
    });
    expect(brokenScore.data.failed).toEqual(['opt-out']);
    expect(brokenScore.data.passed).toEqual(expect.arrayContaining(['disclosures', 'forbidden-wording', 'contact-hours']));
    expect(brokenScore.data.score).toBeLessThan(100);
    const [finding] = await findings(`caseId=${broken}`);
    expect(finding).toMatchObject({ ruleId: 'opt-out', touchKind: 'notice.sent', autofail: false, detail: 'missing: opt-out' });

    expect((await scoreOf(shipped, shippedNotice.id)).data).toMatchObject({ template: 'reminder-friendly', score: 100, failed: [] });
  });

  it('a payment demand is scored from its own text: it states the creditor, the amount, how to pay and how to dispute', async () => {
    const caseId = await openCase('letter-at-once');
    const letter = await waitFor('the letter', async () => (await touches(caseId)).find((touch) => touch.kind === 'letter.sent'));
    const score = await scoreOf(caseId, letter.id);
    expect(score.data).toMatchObject({ touchKind: 'letter.sent', template: 'payment-demand', failed: [], autofailed: false, score: 100 });
    expect(score.data.passed).toEqual(expect.arrayContaining(['disclosures', 'forbidden-wording']));
  });

  it('a promise not followed up by its date is a process finding; one followed up on its date is not', async () => {
    const today = DateTime.now().setZone(ZONE).toISODate()!;
    const promise = async (caseId: string) => {
      await sut.http.post(`/v1/cases/${caseId}/promises`).set(bearer('operator')).send({ amount: '100.00', dueDate: today }).expect(201);
      return (await touches(caseId)).find((touch) => touch.kind === 'promise.recorded')!;
    };
    const forgotten = await openCase();
    const followed = await openCase();
    const [forgottenPromise, followedPromise] = [await promise(forgotten), await promise(followed)];

    // Before its date has passed, a promise is not judged.
    await sut.app.get(QaScoring).sweep();
    expect((await touches(forgotten)).some((touch) => touch.kind === 'qa.scored' && touch.data.touchId === forgottenPromise.id)).toBe(false);

    const clock = FixedClock.install(sut.app, DateTime.fromISO(today, { zone: ZONE }).plus({ days: 3 }).toJSDate());
    try {
      await record(
        followed,
        contact({ startedAt: DateTime.fromISO(today, { zone: ZONE }).set({ hour: 11 }).toISO()!, notes: 'Called on the promised date: payment on its way.' }),
      );
      expect((await scoreOf(forgotten, forgottenPromise.id)).data).toMatchObject({
        touchKind: 'promise.recorded',
        collector: 'operator-key',
        failed: ['promise-follow-up'],
      });
      expect((await scoreOf(followed, followedPromise.id)).data).toMatchObject({ failed: [], passed: ['promise-follow-up'] });
    } finally {
      clock.restore();
    }
    const [finding] = await findings(`caseId=${forgotten}&rule=promise-follow-up`);
    expect(finding).toMatchObject({ touchId: forgottenPromise.id, collector: 'operator-key', status: 'open' });
    expect(finding!.detail).toContain(`due ${today}`);
  });

  it('an inspector overturns a finding with a note: the finding says so and the case has the touch; a second review is refused', async () => {
    const caseId = await openCase();
    const late = await record(caseId, contact({ startedAt: yesterdayAt(6, 15) }));
    await scoreOf(caseId, late.id);
    const [finding] = await findings(`caseId=${caseId}&status=open`);
    expect(finding).toMatchObject({ ruleId: 'contact-hours', status: 'open' });
    // Calibration: the share of the rule's reviewed findings that reviewers confirmed.
    const calibration = async () =>
      ((await sut.http.get('/v1/reports/qa-findings').set(bearer('qa')).expect(200)).body.rows as FindingsByRuleRow[]).find(
        (row) => row.ruleId === 'contact-hours',
      )!;
    const before = await calibration();

    const reviewed = await sut.http
      .post(`/v1/qa/findings/${finding!.id}/review`)
      .set(bearer('qa'))
      .send({ decision: 'overturn', note: 'The debtor asked to be called before work.' })
      .expect(200);
    expect(reviewed.body).toMatchObject({
      id: finding!.id,
      status: 'overturned',
      reviewer: 'qa-key',
      reviewNote: 'The debtor asked to be called before work.',
    });
    expect((await sut.http.get(`/v1/qa/findings/${finding!.id}`).set(bearer('auditor')).expect(200)).body.status).toBe('overturned');
    expect((await touches(caseId)).filter((touch) => touch.kind === 'qa.finding.reviewed')).toEqual([
      expect.objectContaining({
        actor: 'qa-key',
        data: expect.objectContaining({
          findingId: finding!.id,
          touchId: late.id,
          ruleId: 'contact-hours',
          decision: 'overturn',
          status: 'overturned',
          previous: 'open',
        }),
      }),
    ]);

    const after = await calibration();
    expect(after).toMatchObject({ findings: before.findings, open: before.open - 1, overturned: before.overturned + 1 });
    expect(after.confirmedShare).toBe(before.confirmed / (before.confirmed + before.overturned + 1));
    expect(after.confirmedShare).not.toBe(before.confirmedShare);

    const again = await sut.http.post(`/v1/qa/findings/${finding!.id}/review`).set(bearer('qa')).send({ decision: 'confirm', note: 'second look' }).expect(409);
    expect(again.body.message).toContain('already overturned');
    await sut.http.post(`/v1/qa/findings/${finding!.id}/appeal`).set(bearer('collector')).send({ note: 'too late' }).expect(409);
  });

  it('the collector whose contact it was appeals, an inspector confirms; nobody else may appeal', async () => {
    const caseId = await openCase();
    const own = await record(caseId, contact({ notes: 'ok' }));
    const others = await record(caseId, contact({ notes: 'short' }), 'operator');
    await scoreOf(caseId, own.id);
    await scoreOf(caseId, others.id);
    const listed = await findings(`caseId=${caseId}&rule=record-complete`);
    expect(listed.map((finding) => finding.collector).sort()).toEqual(['collector-key', 'operator-key']);
    const mine = listed.find((finding) => finding.collector === 'collector-key');
    const theirs = listed.find((finding) => finding.collector === 'operator-key');

    const refused = await sut.http.post(`/v1/qa/findings/${theirs!.id}/appeal`).set(bearer('collector')).send({ note: 'not mine' }).expect(409);
    expect(refused.body.message).toContain('only they may appeal');
    const appealed = await sut.http
      .post(`/v1/qa/findings/${mine!.id}/appeal`)
      .set(bearer('collector'))
      .send({ note: 'The call was logged in full elsewhere.' })
      .expect(200);
    expect(appealed.body.status).toBe('appealed');
    await sut.http.post(`/v1/qa/findings/${mine!.id}/appeal`).set(bearer('collector')).send({ note: 'again' }).expect(409);
    expect((await findings(`status=appealed&collector=collector-key&caseId=${caseId}`)).map((finding) => finding.id)).toEqual([mine!.id]);

    await sut.http
      .post(`/v1/qa/findings/${mine!.id}/review`)
      .set(bearer('qa'))
      .send({ decision: 'confirm', note: 'Notes must be on the contact.' })
      .expect(200);
    const kinds = (await touches(caseId)).map((touch) => touch.kind);
    expect(kinds.filter((kind) => kind.startsWith('qa.finding.'))).toEqual(['qa.finding.appealed', 'qa.finding.reviewed']);
  });

  it('pages findings with a cursor and keeps the queue to qa and auditor keys', async () => {
    const caseId = await openCase();
    const late = await record(caseId, contact({ startedAt: yesterdayAt(23), notes: 'x' }));
    await scoreOf(caseId, late.id);
    const first = (await sut.http.get(`/v1/qa/findings?caseId=${caseId}&limit=1`).set(bearer('auditor')).expect(200)).body;
    expect(first.items).toHaveLength(1);
    const second = (await sut.http.get(`/v1/qa/findings?caseId=${caseId}&limit=1&cursor=${first.nextCursor}`).set(bearer('auditor')).expect(200)).body;
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect(new Set([first.items[0].ruleId, second.items[0].ruleId])).toEqual(new Set(['contact-hours', 'record-complete']));
    await sut.http.get('/v1/qa/findings').set(bearer('collector')).expect(403);
    await sut.http.post(`/v1/qa/findings/${first.items[0].id}/review`).set(bearer('auditor')).send({ decision: 'confirm', note: 'n' }).expect(403);
  });

  it('with QA_SCORING off the sweep scores nothing; on again, it catches up', async () => {
    const caseId = await openCase();
    const late = await record(caseId, contact({ startedAt: yesterdayAt(23, 30) }));
    const config = sut.app.get(QaScoring)['config'];
    config.QA_SCORING = 'off';
    try {
      expect(await sut.app.get(QaScoring).sweep()).toBe(0);
      expect((await touches(caseId)).some((touch) => touch.kind === 'qa.scored')).toBe(false);
    } finally {
      config.QA_SCORING = 'on';
    }
    expect((await scoreOf(caseId, late.id)).data).toMatchObject({ failed: ['contact-hours'] });
  });

  it('gives way while steps wait to run, unless it is QA_SCORING_MAX_LAG behind', async () => {
    const jobs = sut.app.get(JobQueue);
    const scoring = sut.app.get(QaScoring);
    const steps = jobs.queue(QueueName.Steps);
    // Paused first, so that no round in the background scores the contact before the test looks.
    await steps.pause();
    try {
      const caseId = await openCase();
      const late = await record(caseId, contact({ startedAt: yesterdayAt(23, 30) }));
      // A step job whose step does not exist: work waiting in the queue, a no-op once it runs.
      await jobs.add(JobName.RunStep, [{ id: `quality-backlog-${randomUUID()}`, data: { stepId: randomUUID() } }], 'the test');
      expect(await scoring.sweep()).toBe(0);
      expect((await touches(caseId)).some((touch) => touch.kind === 'qa.scored')).toBe(false);

      const config = scoring['config'];
      const maxLag = config.QA_SCORING_MAX_LAG;
      config.QA_SCORING_MAX_LAG = 1;
      try {
        expect(await scoring.sweep()).toBeGreaterThan(0);
      } finally {
        config.QA_SCORING_MAX_LAG = maxLag;
      }
      expect((await scoreOf(caseId, late.id)).data).toMatchObject({ failed: ['contact-hours'] });
    } finally {
      await steps.resume();
    }
  });

  it('a batch that fails halfway keeps nothing, and the next round scores each touch once', async () => {
    const caseId = await openCase();
    const repository = sut.app.get(QualityRepository);
    const insertFindings = Object.getOwnPropertyDescriptor(repository, 'insertFindings');
    // The last write of the batch fails, as a lost connection would (before the contact, so no round scores it first).
    repository.insertFindings = () => Promise.reject(new Error('connection lost'));
    let late: Touch;
    try {
      late = await record(caseId, contact({ startedAt: yesterdayAt(21, 45) }));
      await waitFor('a round to fail', () =>
        sut.app
          .get(QaScoring)
          .sweep()
          .then(
            () => false,
            () => true,
          ),
      );
    } finally {
      if (insertFindings) Object.defineProperty(repository, 'insertFindings', insertFindings);
      else delete (repository as { insertFindings?: unknown }).insertFindings;
    }
    expect((await touches(caseId)).some((touch) => touch.kind === 'qa.scored')).toBe(false);
    expect(await findings(`caseId=${caseId}`)).toEqual([]);

    await scoreOf(caseId, late.id);
    await sut.app.get(QaScoring).sweep();
    expect((await touches(caseId)).filter((touch) => touch.kind === 'qa.scored' && touch.data.touchId === late.id)).toHaveLength(1);
    expect((await findings(`caseId=${caseId}`)).map((finding) => finding.ruleId)).toEqual(['contact-hours']);
  });

  it('a contact posted again with its contactId is recorded once; other details under that id are a conflict', async () => {
    const caseId = await openCase();
    const contactId = '0b7b1d0e-2f5c-4c33-9a53-6e0f4d1c2a77';
    const body = contact({ contactId });
    const first = await sut.http.post(`/v1/cases/${caseId}/contacts`).set(bearer('collector')).send(body).expect(201);
    const again = await sut.http.post(`/v1/cases/${caseId}/contacts`).set(bearer('collector')).send(body).expect(201);
    expect(again.body).toEqual(first.body);
    expect(first.body).toMatchObject({ contactId, caseId, collector: 'collector-key' });
    const conflict = await sut.http
      .post(`/v1/cases/${caseId}/contacts`)
      .set(bearer('collector'))
      .send({ ...body, notes: 'Something else entirely.' })
      .expect(409);
    expect(conflict.body.details).toEqual([expect.objectContaining({ field: 'body.contactId' })]);
    expect((await touches(caseId)).filter((touch) => touch.kind === 'contact.recorded')).toHaveLength(1);
  });

  it('refuses bad contacts naming the field, and changes nothing', async () => {
    const caseId = await openCase();
    const post = (body: unknown) =>
      sut.http
        .post(`/v1/cases/${caseId}/contacts`)
        .set(bearer('collector'))
        .send(body as object);
    expect((await post(contact({ channel: 'pigeon' })).expect(400)).body.details).toEqual([expect.objectContaining({ field: 'body.channel' })]);
    expect((await post(contact({ party: 'third-party' })).expect(400)).body.details).toEqual([expect.objectContaining({ field: 'body.relation' })]);
    expect((await post(contact({ startedAt: DateTime.now().plus({ hours: 2 }).toISO() })).expect(400)).body.details).toEqual([
      expect.objectContaining({ field: 'body.startedAt' }),
    ]);
    expect((await post(contact({ durationSeconds: -1 })).expect(400)).body.details).toEqual([expect.objectContaining({ field: 'body.durationSeconds' })]);
    await sut.http.post('/v1/cases/00000000-0000-4000-8000-000000000000/contacts').set(bearer('collector')).send(contact()).expect(404);
    await sut.http.post(`/v1/cases/${caseId}/contacts`).set(bearer('auditor')).send(contact()).expect(403);
    expect((await touches(caseId)).some((touch) => touch.kind === 'contact.recorded')).toBe(false);
    expect((await sut.http.get(`/v1/cases/${caseId}/contacts`).set(bearer('qa')).expect(200)).body.items).toEqual([]);
  });

  it("the reports page draws these figures: the collectors' QA scores and the findings by rule", async () => {
    const caseId = await openCase();
    const late = await record(caseId, contact({ startedAt: yesterdayAt(6, 15) }));
    await scoreOf(caseId, late.id);
    const auditor = `Basic ${Buffer.from(`auditor-key:${KEYS.auditor}`).toString('base64')}`;
    const page = (await sut.http.get('/reports').set('Authorization', auditor).expect(200)).text;
    const embedded = /<script type="application\/json" id="[^"]+">(.*?)<\/script>/s.exec(page)![1]!;
    expect(embedded).toContain('collector-key');
    expect(embedded).toContain('contact-hours');
  });
});
