import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TouchRepository } from '../../../src/audit/touch.repository';
import { CaseRepository } from '../../../src/cases/case.repository';
import { DebtorRepository } from '../../../src/cases/debtor.repository';
import type { PolicyStep } from '../../../src/domain/policy';
import { type NewStep, type ScheduledStep, StepRepository } from '../../../src/scheduling/step.repository';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

const NO_ID = '00000000-0000-0000-0000-000000000000';
const feeStep: PolicyStep = { at: 'P1D', action: 'fee' };
const emailNotice: PolicyStep = { at: 'PT0S', action: 'notice', channel: 'email', template: 'reminder-friendly' };
const smsNotice: PolicyStep = { at: 'PT0S', action: 'notice', channel: 'sms', template: 'reminder-firm' };
const later = (from: Date, ms: number) => new Date(from.getTime() + ms);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const byId = <T extends { id: string }>(items: T[]): T[] => [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

interface Plan {
  dueAt: Date;
  status?: NewStep['status'];
  outcome?: string;
  step?: PolicyStep;
}

describe('StepRepository', () => {
  let ctx: IntegrationContext;
  let sut: StepRepository;
  const at = new Date('2026-03-10T08:00:00Z');

  beforeAll(async () => {
    ctx = await startIntegration('step_repo');
    sut = ctx.get(StepRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  /** Inserts steps into a case after its ladder (index `from`, `from + 1`, …); returns their ids. */
  const addSteps = async (caseId: string, plans: Plan[], from = 1): Promise<string[]> => {
    const steps: NewStep[] = plans.map((plan, i) => ({
      id: randomUUID(),
      caseId,
      index: from + i,
      step: plan.step ?? emailNotice,
      dueAt: plan.dueAt,
      status: plan.status ?? 'pending',
      outcome: plan.outcome ?? null,
    }));
    await ctx.tx((tx) => sut.insertMany(tx, steps, at));
    return steps.map((step) => step.id);
  };

  const stepOf = async (caseId: string, stepId: string): Promise<ScheduledStep> => (await sut.ofCase(caseId)).find((step) => step.id === stepId)!;

  /** Whether another connection can take the row lock (or the debtor's contact lock) right now, without waiting. */
  const rowFree = async (table: 'scheduled_steps' | 'cases', id: string): Promise<boolean> => {
    try {
      await ctx.get(DataSource).query(`SELECT 1 FROM ${table} WHERE id = $1 FOR UPDATE NOWAIT`, [id]);
      return true;
    } catch (error) {
      if (error instanceof Error && /could not obtain lock/.test(error.message)) return false;
      throw error;
    }
  };
  const contactLockFree = async (debtorId: string): Promise<boolean> => {
    const [row] = await ctx.get(DataSource).query(`SELECT pg_try_advisory_xact_lock(hashtextextended('contact:' || $1, 0)) AS free`, [debtorId]);
    return row.free;
  };

  it('opening a case inserts its planned steps in ladder order, pending, moved to now when the case opens late', async () => {
    const quiet = await newCase(ctx);
    expect(await sut.ofCase(quiet.caseId)).toEqual([
      {
        id: quiet.stepIds[0],
        index: 0,
        definition: { at: 'P20Y', action: 'fee' },
        dueAt: new Date('2046-03-01T23:00:00Z'),
        status: 'pending',
        outcome: null,
        attempts: 0,
        lastError: null,
        finishedAt: null,
      },
    ]);

    // Both notices of `quick` are due when the case opens (due moment 2026-03-02 00:00 Berlin). The ladder catches up from
    // the first: it runs now and the second keeps its spacing from it (PT1H after PT2S).
    const quick = await newCase(ctx, { policy: 'quick', segment: undefined });
    const [first, second] = await sut.ofCase(quick.caseId);
    expect(first).toMatchObject({
      index: 0,
      definition: { action: 'notice', channel: 'email', template: 'reminder-friendly' },
      dueAt: at,
      status: 'pending',
      outcome: null,
    });
    expect(second).toMatchObject({ index: 1, dueAt: new Date('2026-03-10T08:59:58Z'), status: 'pending', outcome: null });
  });

  it('insertMany writes the given steps of several cases as given, and a schedule lists them by index', async () => {
    const [a, b] = [await newCase(ctx), await newCase(ctx)];
    const steps: NewStep[] = [
      { id: randomUUID(), caseId: a.caseId, index: 3, step: emailNotice, dueAt: later(at, 2 * DAY), status: 'pending', outcome: null },
      { id: randomUUID(), caseId: a.caseId, index: 1, step: feeStep, dueAt: later(at, DAY), status: 'skipped', outcome: 'not needed' },
      { id: randomUUID(), caseId: b.caseId, index: 1, step: smsNotice, dueAt: later(at, 3 * DAY), status: 'pending', outcome: null },
    ];
    await ctx.tx((tx) => sut.insertMany(tx, steps, at));

    const schedule = await sut.ofCase(a.caseId);
    expect(schedule.map((step) => step.index)).toEqual([0, 1, 3]);
    expect(schedule[1]).toEqual({
      id: steps[1]!.id,
      index: 1,
      definition: feeStep,
      dueAt: later(at, DAY),
      status: 'skipped',
      outcome: 'not needed',
      attempts: 0,
      lastError: null,
      finishedAt: null,
    });
    expect(schedule[2]).toMatchObject({ id: steps[0]!.id, definition: emailNotice, dueAt: later(at, 2 * DAY), status: 'pending', outcome: null });
    expect((await sut.ofCase(b.caseId)).map(({ id, definition, status }) => ({ id, definition, status }))).toEqual([
      { id: b.stepIds[0], definition: { at: 'P20Y', action: 'fee' }, status: 'pending' },
      { id: steps[2]!.id, definition: smsNotice, status: 'pending' },
    ]);
  });

  it('insertRequested adds a pending one-off step due at the given moment, after the ladder and at an index of at least fromIndex', async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const request = (fromIndex: number, dueAt: Date) =>
      ctx.tx(async (tx) => {
        const id = randomUUID();
        return { id, index: await sut.insertRequested(tx, { id, caseId, definition: emailNotice, at: dueAt, by: 'clerk@example.test' }, fromIndex) };
      });
    const afterLadder = await request(0, later(at, MINUTE));
    expect(afterLadder.index).toBe(1);
    const fromHundred = await request(100, later(at, 2 * MINUTE));
    expect(fromHundred.index).toBe(100);
    const next = await request(0, later(at, 3 * MINUTE));
    expect(next.index).toBe(101);

    const schedule = await sut.ofCase(caseId);
    expect(schedule.map((step) => [step.id, step.index])).toEqual([
      [stepIds[0], 0],
      [afterLadder.id, 1],
      [fromHundred.id, 100],
      [next.id, 101],
    ]);
    expect(schedule[3]).toMatchObject({ definition: emailNotice, dueAt: later(at, 3 * MINUTE), status: 'pending', outcome: null, attempts: 0 });
    await ctx.tx(async (tx) => {
      expect((await sut.lockForRun(tx, next.id))!.requestedBy).toBe('clerk@example.test');
      expect((await sut.lockForRun(tx, stepIds[0]!))!.requestedBy).toBeNull();
    });
  });

  it('lockForRun reads the step with its case, debtor and invoice facts; undefined for an unknown step', async () => {
    const { caseId, data, stepIds } = await newCase(ctx, {
      debtor: { name: 'Bea Debtor', phone: '+49 151 1234567', address: { street: 'Hauptstr. 1', country: 'de' }, locale: 'de-DE', timezone: 'Europe/Berlin' },
      invoice: { contractRef: 'CTR-LOCK', currency: 'EUR', amountDue: '99.50', dueDate: '2026-03-01' },
    });
    const head = (await ctx.get(TouchRepository).head(caseId))!;
    await ctx.tx(async (tx) => {
      const debtorId = (await ctx.get(DebtorRepository).idOf(tx, data.debtor.externalId))!;
      const step = (await sut.lockForRun(tx, stepIds[0]!))!;
      expect(step).toEqual({
        id: stepIds[0],
        caseId,
        index: 0,
        status: 'pending',
        dueAt: new Date('2046-03-01T23:00:00Z'),
        definition: { at: 'P20Y', action: 'fee' },
        requestedBy: null,
        case: { status: 'active', currency: 'EUR', balanceMinor: 9950n, head },
        debtor: {
          id: debtorId,
          name: 'Bea Debtor',
          email: data.debtor.email,
          phone: '+49 151 1234567',
          locale: 'de-DE',
          timezone: 'Europe/Berlin',
          country: 'DE',
          unsubscribeToken: expect.any(String),
          ceaseContact: false,
          declinedChannels: [],
          deceased: false,
          bankrupt: false,
        },
        invoice: { ref: data.invoice.externalId, contractRef: 'CTR-LOCK', dueDate: '2026-03-01', dueAt: new Date('2026-03-01T23:00:00Z') },
      });
      expect(await ctx.get(DebtorRepository).idOfUnsubscribeToken(tx, step.debtor.unsubscribeToken)).toBe(debtorId);
      expect(await sut.lockForRun(tx, NO_ID)).toBeUndefined();
    });
  });

  it('lockForRun reads the country as the case opening does: a two-letter code, spaces and case aside', async () => {
    const spaced = await newCase(ctx, { debtor: { address: { country: ' de ' } } });
    const step = (await ctx.tx((tx) => sut.lockForRun(tx, spaced.stepIds[0]!)))!;
    expect(step.debtor.country).toBe('DE');
    expect((await ctx.get(CaseRepository).get(spaced.caseId))!.jurisdiction).toBe('DE');
  });

  it('lockForRun reads the case status and debtor flags as they are now, an instant due date as no date, and a country only from a two-letter code', async () => {
    const held = await newCase(ctx, {
      debtor: { phone: undefined, address: { country: 'Germany' }, timezone: 'Asia/Tokyo' },
      invoice: { currency: 'JPY', amountDue: '5000', dueDate: '2026-03-01T10:00:00+01:00', contractRef: undefined },
    });
    const closed = await newCase(ctx, { debtor: { address: undefined } });
    await ctx.tx(async (tx) => {
      const step = (await sut.lockForRun(tx, held.stepIds[0]!))!;
      await ctx.get(DebtorRepository).setFlags(tx, step.debtor.id, { 'cease-contact': true, deceased: true, bankrupt: true }, at);
      await ctx.get(CaseRepository).hold(tx, held.caseId, at);
      await ctx.get(CaseRepository).close(tx, closed.caseId, 'resolved', at);
    });
    await ctx.tx(async (tx) => {
      const step = (await sut.lockForRun(tx, held.stepIds[0]!))!;
      expect(step.case).toMatchObject({ status: 'on_hold', currency: 'JPY', balanceMinor: 5000n });
      expect(step.debtor).toMatchObject({ phone: null, timezone: 'Asia/Tokyo', country: null, ceaseContact: true, deceased: true, bankrupt: true });
      expect(step.invoice).toEqual({ ref: held.data.invoice.externalId, contractRef: null, dueDate: null, dueAt: new Date('2026-03-01T09:00:00Z') });
      const other = (await sut.lockForRun(tx, closed.stepIds[0]!))!;
      expect(other.case.status).toBe('resolved');
      expect(other.debtor).toMatchObject({ country: null, ceaseContact: false, deceased: false, bankrupt: false });
    });
  });

  it('lockForRun holds the step and case rows and the debtor contact lock until its transaction ends; lockForFailure holds the rows', async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const stepId = stepIds[0]!;
    let debtorId = '';
    await ctx.tx(async (tx) => {
      debtorId = (await sut.lockForRun(tx, stepId))!.debtor.id;
      expect(await rowFree('scheduled_steps', stepId)).toBe(false);
      expect(await rowFree('cases', caseId)).toBe(false);
      expect(await contactLockFree(debtorId)).toBe(false);
    });
    expect(await rowFree('scheduled_steps', stepId)).toBe(true);
    expect(await contactLockFree(debtorId)).toBe(true);

    await ctx.tx(async (tx) => {
      await sut.lockForFailure(tx, stepId);
      expect(await rowFree('scheduled_steps', stepId)).toBe(false);
      expect(await rowFree('cases', caseId)).toBe(false);
      expect(await contactLockFree(debtorId)).toBe(true);
    });
    expect(await rowFree('cases', caseId)).toBe(true);
  });

  it('lockForRun calls made together in one transaction lock every step, case and debtor at once, each answered with its own step', async () => {
    const [a, b] = [await newCase(ctx), await newCase(ctx)];
    const ids = [a.stepIds[0]!, NO_ID, b.stepIds[0]!];
    await ctx.tx(async (tx) => {
      const [first, missing, second] = await Promise.all(ids.map((id) => sut.lockForRun(tx, id)));
      expect([first!.caseId, missing, second!.caseId]).toEqual([a.caseId, undefined, b.caseId]);
      for (const { caseId, step } of [
        { caseId: a.caseId, step: first! },
        { caseId: b.caseId, step: second! },
      ]) {
        expect(await rowFree('scheduled_steps', step.id)).toBe(false);
        expect(await rowFree('cases', caseId)).toBe(false);
        expect(await contactLockFree(step.debtor.id)).toBe(false);
      }
    });
  });

  it("lockForFailure reads the step's case, index, status, action and channel; undefined for an unknown step", async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const [sms] = await addSteps(caseId, [{ dueAt: at, step: smsNotice }]);
    await ctx.tx(async (tx) => {
      await sut.markRunning(tx, sms!, at);
      expect(await sut.lockForFailure(tx, stepIds[0]!)).toEqual({ id: stepIds[0], caseId, index: 0, status: 'pending', action: 'fee', channel: null });
      expect(await sut.lockForFailure(tx, sms!)).toEqual({ id: sms, caseId, index: 1, status: 'running', action: 'notice', channel: 'sms' });
      expect(await sut.lockForFailure(tx, NO_ID)).toBeUndefined();
    });
  });

  it('finish settles a step with the given status, outcome and finishing time, and leaves the other steps alone', async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const [other] = await addSteps(caseId, [{ dueAt: at }]);
    await ctx.tx((tx) => sut.finish(tx, stepIds[0]!, 'failed', 'fee service down', later(at, MINUTE)));
    expect(await stepOf(caseId, stepIds[0]!)).toMatchObject({ status: 'failed', outcome: 'fee service down', finishedAt: later(at, MINUTE) });
    await ctx.tx((tx) => sut.finish(tx, stepIds[0]!, 'done', 'assessed', later(at, 2 * MINUTE)));
    expect(await stepOf(caseId, stepIds[0]!)).toMatchObject({ status: 'done', outcome: 'assessed', finishedAt: later(at, 2 * MINUTE) });
    expect(await stepOf(caseId, other!)).toMatchObject({ status: 'pending', outcome: null, finishedAt: null });
  });

  it('finishLetters marks a letter step done with its outcome, and a step already done stays as it was', async () => {
    const letter: PolicyStep = { at: 'PT0S', action: 'letter', letter: 'payment-demand', deliver: ['email'] };
    const { caseId } = await newCase(ctx);
    const [running, failed] = await addSteps(caseId, [
      { dueAt: at, step: letter },
      { dueAt: at, step: letter },
    ]);
    await ctx.tx(async (tx) => {
      await sut.markRunning(tx, running!, at);
      await sut.finish(tx, failed!, 'failed', 'smtp down', at);
    });
    await ctx.tx(async (tx) => {
      await sut.finishLetters(tx, running!, 'issued', later(at, MINUTE));
      await sut.finishLetters(tx, failed!, 'issued', later(at, MINUTE));
    });
    expect(await stepOf(caseId, running!)).toMatchObject({ status: 'done', outcome: 'issued', finishedAt: later(at, MINUTE) });
    expect(await stepOf(caseId, failed!)).toMatchObject({ status: 'done', outcome: 'issued', finishedAt: later(at, MINUTE) });

    await ctx.tx((tx) => sut.finishLetters(tx, running!, 'issued again', later(at, 5 * MINUTE)));
    expect(await stepOf(caseId, running!)).toMatchObject({ status: 'done', outcome: 'issued', finishedAt: later(at, MINUTE) });
  });

  it('defer makes a step wait, deferred, until the given moment, without counting an attempt', async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const until = new Date('2026-03-11T07:00:00Z');
    await ctx.tx((tx) => sut.defer(tx, stepIds[0]!, until, at));
    expect(await stepOf(caseId, stepIds[0]!)).toMatchObject({ status: 'deferred', dueAt: until, attempts: 0, outcome: null, finishedAt: null });
  });

  it('markRunning marks a step running and counts an attempt each time', async () => {
    const { caseId, stepIds } = await newCase(ctx);
    await ctx.tx((tx) => sut.markRunning(tx, stepIds[0]!, at));
    expect(await stepOf(caseId, stepIds[0]!)).toMatchObject({ status: 'running', attempts: 1 });
    await ctx.tx((tx) => sut.markRunning(tx, stepIds[0]!, later(at, MINUTE)));
    expect(await stepOf(caseId, stepIds[0]!)).toMatchObject({ status: 'running', attempts: 2 });
  });

  it('noteFailure keeps the error and counts an attempt only when the step was not running', async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const [pending] = await addSteps(caseId, [{ dueAt: at }]);
    const running = stepIds[0]!;
    await ctx.tx((tx) => sut.markRunning(tx, running, at));
    await ctx.tx(async (tx) => {
      await sut.noteFailure(tx, running, 'smtp timeout');
      await sut.noteFailure(tx, pending!, 'claim rolled back');
    });
    expect(await stepOf(caseId, running)).toMatchObject({ status: 'running', attempts: 1, lastError: 'smtp timeout' });
    expect(await stepOf(caseId, pending!)).toMatchObject({ status: 'pending', attempts: 1, lastError: 'claim rolled back' });

    await ctx.tx(async (tx) => {
      await sut.finish(tx, running, 'failed', 'gave up', at);
      await sut.noteFailure(tx, running, 'again');
    });
    expect(await stepOf(caseId, running)).toMatchObject({ status: 'failed', attempts: 2, lastError: 'again' });
  });

  it('noteFailure with a retry to come puts a running step back to pending, so the reconciler can find it', async () => {
    const { caseId } = await newCase(ctx);
    const [running] = (await addSteps(caseId, [{ dueAt: at }], 10)) as [string];
    await ctx.tx((tx) => sut.markRunning(tx, running, at));
    await ctx.tx((tx) => sut.noteFailure(tx, running, 'smtp 451', true));
    expect(await stepOf(caseId, running)).toMatchObject({ status: 'pending', attempts: 1, lastError: 'smtp 451' });
    const due = await ctx.tx((tx) => sut.dueWithin(tx, later(at, MINUTE), { id: '00000000-0000-0000-0000-000000000000', dueAt: new Date(0) }, at, 500));
    expect(due.map((step) => step.id)).toContain(running);
  });

  it('demandPlanned sees a payment-demand step still to finish, other than the given one, and no other letter or settled step', async () => {
    const { caseId } = await newCase(ctx);
    const demand = { at: 'P10D', action: 'letter' as const, letter: 'payment-demand' as const, deliver: ['email' as const] };
    const termination = { ...demand, letter: 'contract-termination' as const };
    const [terminationId, doneId] = await addSteps(caseId, [
      { step: termination, dueAt: later(at, MINUTE) },
      { step: demand, dueAt: at },
    ]);
    await ctx.tx((tx) => sut.finish(tx, doneId!, 'done', 'issued', at));
    expect(await ctx.tx((tx) => sut.demandPlanned(tx, caseId, terminationId!))).toBe(false);
    const [waitingId] = await addSteps(caseId, [{ step: demand, dueAt: later(at, MINUTE) }], 10);
    await ctx.tx((tx) => sut.defer(tx, waitingId!, later(at, 2 * MINUTE), at));
    expect(await ctx.tx((tx) => sut.demandPlanned(tx, caseId, terminationId!))).toBe(true);
    expect(await ctx.tx((tx) => sut.demandPlanned(tx, caseId, null))).toBe(true);
    // The demand step itself does not count.
    expect(await ctx.tx((tx) => sut.demandPlanned(tx, caseId, waitingId!))).toBe(false);
  });

  it("nextWaiting names the case's earliest waiting step other than the given one, by due moment then index", async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const ladder = stepIds[0]!;
    const [inTwoDays, tomorrow, skipped, alsoTomorrow] = (await addSteps(caseId, [
      { dueAt: later(at, 2 * DAY) },
      { dueAt: later(at, DAY) },
      { dueAt: at, status: 'skipped', outcome: 'superseded' },
      { dueAt: later(at, DAY) },
    ])) as [string, string, string, string];
    // Another case's earlier step is not this case's.
    await addSteps((await newCase(ctx)).caseId, [{ dueAt: at }]);

    const next = (except: string) => ctx.tx((tx) => sut.nextWaiting(tx, caseId, except));
    expect(await next(ladder)).toEqual({ id: tomorrow, dueAt: later(at, DAY) });
    expect(await next(tomorrow)).toEqual({ id: alsoTomorrow, dueAt: later(at, DAY) });
    expect(await next(skipped)).toEqual({ id: tomorrow, dueAt: later(at, DAY) });

    await ctx.tx(async (tx) => {
      await sut.defer(tx, inTwoDays, later(at, 1234), at);
      await sut.markRunning(tx, tomorrow, at);
    });
    expect(await next(ladder)).toEqual({ id: inTwoDays, dueAt: later(at, 1234) });

    await ctx.tx(async (tx) => {
      for (const id of [inTwoDays, alsoTomorrow]) await sut.finish(tx, id, 'done', 'sent', at);
    });
    expect(await next(NO_ID)).toEqual({ id: ladder, dueAt: new Date('2046-03-01T23:00:00Z') });
    expect(await next(ladder)).toBeUndefined();
  });

  it("nextWaiting reads the case's own steps, not the index of every waiting step, even on a generic plan", async () => {
    const { caseId, stepIds } = await newCase(ctx);
    // Another case's thousands of waiting steps: what a scan of scheduled_steps_due walks through.
    const other = (await newCase(ctx)).caseId;
    await ctx.get(DataSource).query(
      `INSERT INTO scheduled_steps (id, case_id, step_index, action, definition, due_at, status, updated_at)
       SELECT gen_random_uuid(), $1, 100 + n, 'notice', '{}', $2, 'pending', $2 FROM generate_series(1, 5000) AS n`,
      [other, at],
    );
    const scans = await ctx.get(DataSource).transaction(async (manager) => {
      // The backend's pending counts may still hold an earlier transaction's scans (PostgreSQL
      // flushes them at most once a second), so count the difference the calls make.
      const count = async () => (await manager.query<{ n: number }[]>(`SELECT pg_stat_get_xact_numscans('scheduled_steps_due'::regclass)::int AS n`))[0]!.n;
      const before = await count();
      // PL/pgSQL's cached plan after a few calls: the statistics no longer pick the plan per case.
      await manager.query('SET LOCAL plan_cache_mode = force_generic_plan');
      for (let n = 0; n < 3; n += 1) await manager.query('SELECT next_pending_step($1, $2)', [caseId, stepIds[0]]);
      return (await count()) - before;
    });
    expect(scans).toBe(0);
  });

  it("waitingIds lists a case's pending and deferred steps only", async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const [deferred, running, done, skipped, failed, cancelled] = (await addSteps(caseId, [
      { dueAt: at },
      { dueAt: at },
      { dueAt: at },
      { dueAt: at, status: 'skipped', outcome: 'superseded' },
      { dueAt: at },
      { dueAt: at },
    ])) as [string, string, string, string, string, string];
    await ctx.tx(async (tx) => {
      await sut.defer(tx, deferred, later(at, DAY), at);
      await sut.markRunning(tx, running, at);
      await sut.finish(tx, done, 'done', 'sent', at);
      await sut.finish(tx, failed, 'failed', 'boom', at);
      await sut.finish(tx, cancelled, 'cancelled', 'closed', at);
    });
    const ids = await ctx.tx((tx) => sut.waitingIds(tx, caseId));
    expect(ids.sort()).toEqual([stepIds[0]!, deferred].sort());
    expect(ids).not.toContain(skipped);
    expect(await ctx.tx((tx) => sut.waitingIds(tx, NO_ID))).toEqual([]);
  });

  it("shiftWaiting moves a case's pending and deferred steps later by the paused time and returns them; other steps stay", async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const ladder = stepIds[0]!;
    const [deferred, running, done, skipped] = (await addSteps(caseId, [
      { dueAt: at },
      { dueAt: later(at, MINUTE) },
      { dueAt: later(at, 2 * MINUTE) },
      { dueAt: later(at, 3 * MINUTE), status: 'skipped', outcome: 'superseded' },
    ])) as [string, string, string, string];
    await ctx.tx(async (tx) => {
      await sut.defer(tx, deferred, later(at, DAY), at);
      await sut.markRunning(tx, running, at);
      await sut.finish(tx, done, 'done', 'sent', at);
    });
    const other = await newCase(ctx);
    const paused = 3 * DAY + 1500;

    const shifted = await ctx.tx((tx) => sut.shiftWaiting(tx, caseId, paused, later(at, DAY)));
    expect(byId(shifted)).toEqual(
      byId([
        { id: ladder, dueAt: later(new Date('2046-03-01T23:00:00Z'), paused) },
        { id: deferred, dueAt: later(at, DAY + paused) },
      ]),
    );
    const schedule = await sut.ofCase(caseId);
    expect(schedule.map((step) => [step.id, step.status, step.dueAt])).toEqual([
      [ladder, 'pending', later(new Date('2046-03-01T23:00:00Z'), paused)],
      [deferred, 'deferred', later(at, DAY + paused)],
      [running, 'running', later(at, MINUTE)],
      [done, 'done', later(at, 2 * MINUTE)],
      [skipped, 'skipped', later(at, 3 * MINUTE)],
    ]);
    expect((await sut.ofCase(other.caseId))[0]!.dueAt).toEqual(new Date('2046-03-01T23:00:00Z'));
  });

  it("cancelUnrun cancels a closing case's pending, deferred and failed steps with the reason, returns them, and leaves the rest", async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const [deferred, failed, running, done, skipped] = (await addSteps(caseId, [
      { dueAt: at },
      { dueAt: at },
      { dueAt: at },
      { dueAt: at },
      { dueAt: at, status: 'skipped', outcome: 'superseded' },
    ])) as [string, string, string, string, string];
    await ctx.tx(async (tx) => {
      await sut.defer(tx, deferred, later(at, DAY), at);
      await sut.finish(tx, failed, 'failed', 'boom', at);
      await sut.markRunning(tx, running, at);
      await sut.finish(tx, done, 'done', 'sent', at);
    });
    const other = await newCase(ctx);

    const cancelled = await ctx.tx((tx) => sut.cancelUnrun(tx, caseId, 'case resolved', later(at, MINUTE)));
    expect(byId(cancelled)).toEqual(
      byId([
        { id: stepIds[0]!, step_index: 0 },
        { id: deferred, step_index: 1 },
        { id: failed, step_index: 2 },
      ]),
    );
    const schedule = await sut.ofCase(caseId);
    expect(schedule.map((step) => [step.id, step.status, step.outcome])).toEqual([
      [stepIds[0], 'cancelled', 'case resolved'],
      [deferred, 'cancelled', 'case resolved'],
      [failed, 'cancelled', 'case resolved'],
      [running, 'running', null],
      [done, 'done', 'sent'],
      [skipped, 'skipped', 'superseded'],
    ]);
    expect((await sut.ofCase(other.caseId))[0]!.status).toBe('pending');
    expect(await ctx.tx((tx) => sut.cancelUnrun(tx, caseId, 'again', at))).toEqual([]);
  });

  it('dueWithin pages through the waiting steps of active cases due by the horizon, and running ones only when stale, in keyset order', async () => {
    // A window of its own, in 2031: no other test plans a step there.
    const t = new Date('2031-01-01T00:00:00Z');
    const horizon = later(t, 60 * MINUTE);
    const staleBefore = t;
    const active = await newCase(ctx);
    const [pending, deferred, stale, fresh, done, failed, cancelled, _beyond, atHorizon, tieA, tieB] = await addSteps(active.caseId, [
      { dueAt: later(t, MINUTE) },
      { dueAt: later(t, 100 * DAY) },
      { dueAt: later(t, 3 * MINUTE) },
      { dueAt: later(t, 4 * MINUTE) },
      { dueAt: later(t, 5 * MINUTE) },
      { dueAt: later(t, 6 * MINUTE) },
      { dueAt: later(t, 7 * MINUTE) },
      { dueAt: later(horizon, 1) },
      { dueAt: horizon },
      { dueAt: later(t, 10 * MINUTE) },
      { dueAt: later(t, 10 * MINUTE) },
    ]);
    await ctx.tx(async (tx) => {
      await sut.defer(tx, deferred!, later(t, 2 * MINUTE), at);
      await sut.markRunning(tx, stale!, later(staleBefore, -1));
      await sut.markRunning(tx, fresh!, staleBefore);
      await sut.finish(tx, done!, 'done', 'sent', at);
      await sut.finish(tx, failed!, 'failed', 'boom', at);
      await sut.finish(tx, cancelled!, 'cancelled', 'closed', at);
    });
    const held = await newCase(ctx);
    const closed = await newCase(ctx);
    await addSteps(held.caseId, [{ dueAt: later(t, 2 * MINUTE) }]);
    await addSteps(closed.caseId, [{ dueAt: later(t, 2 * MINUTE) }]);
    await ctx.tx(async (tx) => {
      await ctx.get(CaseRepository).hold(tx, held.caseId, at);
      await ctx.get(CaseRepository).close(tx, closed.caseId, 'cancelled', at);
    });

    const [first, second] = [tieA, tieB].sort() as [string, string];
    const expected = [
      { id: pending!, dueAt: later(t, MINUTE) },
      { id: deferred!, dueAt: later(t, 2 * MINUTE) },
      { id: stale!, dueAt: later(t, 3 * MINUTE) },
      { id: first, dueAt: later(t, 10 * MINUTE) },
      { id: second, dueAt: later(t, 10 * MINUTE) },
      { id: atHorizon!, dueAt: horizon },
    ];
    const due = (after: { id: string; dueAt: Date }, limit = 100) => ctx.tx((tx) => sut.dueWithin(tx, horizon, after, staleBefore, limit));
    expect(await due({ id: NO_ID, dueAt: t })).toEqual(expected);
    expect(await due({ id: NO_ID, dueAt: t }, 2)).toEqual(expected.slice(0, 2));
    expect(await due(expected[1]!, 2)).toEqual(expected.slice(2, 4));
    expect(await due(expected[3]!)).toEqual(expected.slice(4));
    expect(await due(expected[5]!)).toEqual([]);
  });

  it("dueBy reads the pending steps of the given cases due by the end of asOf on each debtor's calendar, and changes nothing", async () => {
    const { berlin, newYork, steps } = await dueByCases();
    const before = [...(await sut.ofCase(berlin)), ...(await sut.ofCase(newYork))];
    const due = await ctx.tx((tx) => sut.dueBy(tx, [berlin, newYork], '2027-06-10'));
    expect(byId(due)).toEqual(
      byId([
        { id: steps.dayEnd, caseId: berlin, dueAt: new Date('2027-06-10T21:59:59.999Z') },
        { id: steps.early, caseId: berlin, dueAt: new Date('2027-06-01T00:00:00Z') },
        { id: steps.newYorkEvening, caseId: newYork, dueAt: new Date('2027-06-11T03:00:00Z') },
      ]),
    );
    expect([...(await sut.ofCase(berlin)), ...(await sut.ofCase(newYork))]).toEqual(before);
    expect(await ctx.tx((tx) => sut.dueBy(tx, [], '2027-06-10'))).toEqual([]);
  });

  it('dueBy with runAt brings the due pending steps forward to runAt (an earlier one keeps its moment) and returns them', async () => {
    const { berlin, newYork, steps } = await dueByCases();
    const runAt = new Date('2027-06-05T12:00:00Z');
    const moved = await ctx.tx((tx) => sut.dueBy(tx, [berlin, newYork], '2027-06-10', runAt));
    expect(byId(moved)).toEqual(
      byId([
        { id: steps.dayEnd, caseId: berlin, dueAt: runAt },
        { id: steps.early, caseId: berlin, dueAt: new Date('2027-06-01T00:00:00Z') },
        { id: steps.newYorkEvening, caseId: newYork, dueAt: runAt },
      ]),
    );
    const dueAt = new Map([...(await sut.ofCase(berlin)), ...(await sut.ofCase(newYork))].map((step) => [step.id, step.dueAt]));
    expect(dueAt.get(steps.dayEnd)).toEqual(runAt);
    expect(dueAt.get(steps.newYorkEvening)).toEqual(runAt);
    expect(dueAt.get(steps.early)).toEqual(new Date('2027-06-01T00:00:00Z'));
    expect(dueAt.get(steps.nextDay)).toEqual(new Date('2027-06-10T22:00:00Z'));
    expect(dueAt.get(steps.deferred)).toEqual(new Date('2027-06-01T00:00:00Z'));
    expect(dueAt.get(steps.newYorkLater)).toEqual(new Date('2027-06-11T04:00:00Z'));
  });

  /** A Berlin and a New York case with steps around the end of 2027-06-10 (22:00Z in Berlin, 04:00Z next day in New York). */
  async function dueByCases() {
    const berlin = await newCase(ctx, { debtor: { timezone: 'Europe/Berlin' } });
    const newYork = await newCase(ctx, { debtor: { timezone: 'America/New_York' } });
    const outside = await newCase(ctx);
    const [dayEnd, nextDay, early, deferred, done] = (await addSteps(berlin.caseId, [
      { dueAt: new Date('2027-06-10T21:59:59.999Z') },
      { dueAt: new Date('2027-06-10T22:00:00Z') },
      { dueAt: new Date('2027-06-01T00:00:00Z') },
      { dueAt: new Date('2027-06-01T00:00:00Z') },
      { dueAt: new Date('2027-06-01T00:00:00Z') },
    ])) as [string, string, string, string, string];
    const [newYorkEvening, newYorkLater] = (await addSteps(newYork.caseId, [
      { dueAt: new Date('2027-06-11T03:00:00Z') },
      { dueAt: new Date('2027-06-11T04:00:00Z') },
    ])) as [string, string];
    await addSteps(outside.caseId, [{ dueAt: new Date('2027-06-01T00:00:00Z') }]);
    await ctx.tx(async (tx) => {
      await sut.defer(tx, deferred, new Date('2027-06-01T00:00:00Z'), at);
      await sut.finish(tx, done, 'done', 'sent', at);
    });
    return { berlin: berlin.caseId, newYork: newYork.caseId, steps: { dayEnd, nextDay, early, deferred, newYorkEvening, newYorkLater } };
  }

  it("ofCase lists a case's schedule in ladder order (none for an unknown case); caseIds maps the known step ids to their cases", async () => {
    const [a, b] = [await newCase(ctx), await newCase(ctx)];
    const [late, early] = (await addSteps(a.caseId, [{ dueAt: later(at, DAY) }, { dueAt: at }])) as [string, string];
    expect((await sut.ofCase(a.caseId)).map((step) => step.id)).toEqual([a.stepIds[0], late, early]);
    expect(await sut.ofCase(NO_ID)).toEqual([]);

    const cases = await sut.caseIds([a.stepIds[0]!, early, b.stepIds[0]!, NO_ID]);
    expect(cases).toEqual(
      new Map([
        [a.stepIds[0]!, a.caseId],
        [early, a.caseId],
        [b.stepIds[0]!, b.caseId],
      ]),
    );
    expect(await sut.caseIds([])).toEqual(new Map());
  });
});
