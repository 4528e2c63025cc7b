import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { BatchRepository, type ItemOutcome } from '../../../src/batches/batch.repository';
import { type BatchRequest, batchRequest } from '../../../src/batches/batch.schemas';
import { CaseRepository } from '../../../src/cases/case.repository';
import { PaymentRepository } from '../../../src/cases/payment.repository';
import type { Tx } from '../../../src/database/transactions';
import { type AccountFigures, accountFigures, caseAccount } from '../../../src/domain/account';
import { toMinorUnits } from '../../../src/domain/money';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

/** A batch item as `items` reads it. */
interface Item {
  seq: number;
  caseId: string;
  status: string;
  outcome: string | null;
  error: string | null;
  amounts: AccountFigures | null;
  processedAt: Date | null;
}

describe('BatchRepository', () => {
  let ctx: IntegrationContext;
  let sut: BatchRepository;
  const at = new Date('2026-03-10T08:00:00Z');
  const later = (minutes: number, from = at) => new Date(from.getTime() + minutes * 60_000);
  let opened = 0;

  beforeAll(async () => {
    ctx = await startIntegration('batch_repo');
    sut = ctx.get(BatchRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  /** A segment of the test's own, so that a filter on it selects only the test's cases. */
  const ownSegment = () => `batch-${randomUUID().slice(0, 8)}`;

  /** Opens a case on the quiet policy, a second after the one before, so cases are chosen in the order they were opened. */
  async function open(segment: string, overrides: Parameters<typeof newCase>[1] = {}): Promise<string> {
    ctx.setNow(new Date(at.getTime() + ++opened * 1000));
    const { caseId } = await newCase(ctx, { policy: 'quiet', segment, ...overrides });
    ctx.setNow(at);
    return caseId;
  }

  const request = (filter: Record<string, unknown>, rest: Record<string, unknown> = {}): BatchRequest =>
    batchRequest.parse({ kind: 'dunning-run', asOf: '2026-03-10', filter, ...rest });

  /** Creates a batch the way the service does (the amount in minor units of the filter's currency); fails unless it was created. */
  async function create(req: BatchRequest, options: { key?: string; at?: Date } = {}): Promise<string> {
    const id = randomUUID();
    const { minAmount, currency } = req.filter;
    const created = await ctx.tx((tx) =>
      sut.create(tx, {
        id,
        key: options.key ?? `key-${id}`,
        requestHash: `hash-${id}`,
        request: req,
        minAmountMinor: minAmount !== undefined && currency ? toMinorUnits(minAmount, currency) : null,
        by: 'finance@test',
        at: options.at ?? at,
      }),
    );
    expect(created).toBe(true);
    return id;
  }

  const items = async (id: string, filter: { status?: string; afterSeq?: number; limit?: number } = {}) =>
    (await sut.items(id, { limit: 1000, ...filter })) as Item[];
  const chosen = async (req: BatchRequest) => (await items(await create(req))).map((item) => item.caseId);
  const outcome = (item: { seq: number; caseId: string }, status: ItemOutcome['status'], error?: string): ItemOutcome => ({
    ...item,
    status,
    outcome: `${status}-outcome`,
    ...(error === undefined ? {} : { error }),
  });
  /** Takes every pending item and records these outcomes for the first of them, in seq order. */
  async function record(id: string, statuses: ItemOutcome['status'][], when: Date): Promise<void> {
    await ctx.tx(async (tx) => {
      const taken = await sut.takeItems(tx, id, statuses.length);
      expect(taken).toHaveLength(statuses.length);
      await sut.recordOutcomes(
        tx,
        id,
        taken.map((item, i) => outcome(item, statuses[i]!)),
        when,
      );
    });
  }

  /** True while some session of this suite's database waits for a lock (PostgreSQL's own view, no timing). */
  async function someoneWaits(): Promise<boolean> {
    const waiting = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
    const [row] = await ctx.get(DataSource).query<{ n: number }[]>(waiting);
    return row!.n > 0;
  }

  describe('create', () => {
    it('chooses the open cases of the filter, active or on hold, numbered in the order they were opened', async () => {
      const segment = ownSegment();
      const first = await open(segment);
      const held = await open(segment);
      const closed = await open(segment);
      const last = await open(segment);
      await open(ownSegment());
      await ctx.tx(async (tx) => {
        await ctx.get(CaseRepository).hold(tx, held, at);
        await ctx.get(CaseRepository).close(tx, closed, 'resolved', at);
      });
      const id = await create(request({ segment }));
      expect(await items(id)).toEqual([
        { seq: 1, caseId: first, status: 'pending', outcome: null, error: null, amounts: null, processedAt: null },
        { seq: 2, caseId: held, status: 'pending', outcome: null, error: null, amounts: null, processedAt: null },
        { seq: 3, caseId: last, status: 'pending', outcome: null, error: null, amounts: null, processedAt: null },
      ]);
      expect(await sut.get(id)).toMatchObject({ status: 'queued', total: 3, pending: 3, finishedAt: null });
    });

    it('chooses the cases once: a case closed or opened afterwards does not move in or out', async () => {
      const segment = ownSegment();
      const [a, b] = [await open(segment), await open(segment)];
      const id = await create(request({ segment }));
      await ctx.tx((tx) => ctx.get(CaseRepository).close(tx, a, 'resolved', at));
      await open(segment);
      expect((await items(id)).map((item) => item.caseId)).toEqual([a, b]);
      expect(await sut.get(id)).toMatchObject({ total: 2, pending: 2 });
    });

    it('counts days past due as of the end of asOf on each debtor’s calendar, the day after the due date being day 1', async () => {
      const segment = ownSegment();
      // Due at 20:00 UTC on 1 March: 15:00 that day in New York, 09:00 on 2 March in Auckland.
      const dueDate = '2026-03-01T20:00:00Z';
      const newYork = await open(segment, { invoice: { dueDate }, debtor: { timezone: 'America/New_York' } });
      const auckland = await open(segment, { invoice: { dueDate }, debtor: { timezone: 'Pacific/Auckland' } });
      expect(await chosen(request({ segment, minDaysPastDue: 1 }, { asOf: '2026-03-01' }))).toEqual([newYork]);
      expect(await chosen(request({ segment, maxDaysPastDue: 0 }, { asOf: '2026-03-01' }))).toEqual([auckland]);
      expect(await chosen(request({ segment, minDaysPastDue: 1 }, { asOf: '2026-03-02' }))).toEqual([newYork, auckland]);
      expect(await chosen(request({ segment, minDaysPastDue: 2 }, { asOf: '2026-03-02' }))).toEqual([newYork]);
      expect(await chosen(request({ segment, maxDaysPastDue: 1 }, { asOf: '2026-03-02' }))).toEqual([auckland]);
      expect(await chosen(request({ segment, minDaysPastDue: 2, maxDaysPastDue: 2 }, { asOf: '2026-03-02' }))).toEqual([newYork]);

      // A due date without a time falls due when that day ends: 1 March is day 1 for an invoice due on 28 February.
      const berlin = await open(segment, { invoice: { dueDate: '2026-02-28' }, debtor: { timezone: 'Europe/Berlin' } });
      expect(await chosen(request({ segment, minDaysPastDue: 1, maxDaysPastDue: 1 }, { asOf: '2026-03-01' }))).toEqual([newYork, berlin]);
      expect(await chosen(request({ segment, minDaysPastDue: 11, maxDaysPastDue: 11 }, { asOf: '2026-03-11' }))).toEqual([newYork, berlin]);
      expect(await chosen(request({ segment, maxDaysPastDue: 0 }, { asOf: '2026-02-28' }))).toEqual([newYork, auckland, berlin]);
    });

    it('filters by segment, by currency, and by a minimum balance in that currency', async () => {
      const segment = ownSegment();
      const large = await open(segment, { invoice: { currency: 'EUR', amountDue: '1250.00' } });
      const small = await open(segment, { invoice: { currency: 'EUR', amountDue: '99.99' } });
      const dollars = await open(segment, { invoice: { currency: 'USD', amountDue: '1250.00' } });
      const elsewhere = await open(ownSegment(), { invoice: { currency: 'EUR', amountDue: '1250.00' } });
      expect(await chosen(request({ segment }))).toEqual([large, small, dollars]);
      expect(await chosen(request({ segment, currency: 'EUR' }))).toEqual([large, small]);
      expect(await chosen(request({ segment, currency: 'USD' }))).toEqual([dollars]);
      expect(await chosen(request({ segment, currency: 'EUR', minAmount: '100.00' }))).toEqual([large]);
      expect(await chosen(request({ segment, currency: 'EUR', minAmount: '99.99' }))).toEqual([large, small]);
      expect(await chosen(request({ segment, currency: 'USD', minAmount: '1250.01' }))).toEqual([]);
      expect(await chosen(request({ currency: 'EUR', minAmount: '1250.00' }))).toContain(elsewhere);
    });

    it('answers false for a key used before and writes nothing: the key keeps naming the first batch', async () => {
      const segment = ownSegment();
      const [a] = [await open(segment), await open(segment)];
      const key = `key-${randomUUID()}`;
      const first = await create(request({ segment }), { key });
      const second = randomUUID();
      const reused = await ctx.tx((tx) =>
        sut.create(tx, {
          id: second,
          key,
          requestHash: 'another-hash',
          request: request({ segment, minDaysPastDue: 0 }),
          minAmountMinor: null,
          by: 'someone-else',
          at: later(5),
        }),
      );
      expect(reused).toBe(false);
      expect(await sut.byKey(key)).toEqual({ id: first, requestHash: `hash-${first}` });
      expect(await sut.get(second)).toBeUndefined();
      expect(await items(second)).toEqual([]);
      expect(await sut.get(first)).toMatchObject({ total: 2, pending: 2, createdBy: 'finance@test', createdAt: at });
      expect((await items(first))[0]!.caseId).toBe(a);
    });

    it('completes a batch that chooses no case at once', async () => {
      const id = await create(request({ segment: ownSegment() }), { at: later(3) });
      expect(await sut.get(id)).toMatchObject({ status: 'completed', total: 0, pending: 0, done: 0, startedAt: null, finishedAt: later(3) });
      expect(await items(id)).toEqual([]);
      await sut.start(id, later(4));
      expect(await sut.get(id)).toMatchObject({ status: 'completed', startedAt: null });
    });
  });

  it('byKey finds the batch a key made, with its request hash, and nothing for an unused key', async () => {
    const key = `key-${randomUUID()}`;
    const id = await create(request({ segment: ownSegment() }), { key });
    expect(await sut.byKey(key)).toEqual({ id, requestHash: `hash-${id}` });
    expect(await sut.byKey(`key-${randomUUID()}`)).toBeUndefined();
  });

  it('get describes the batch and counts its items by status', async () => {
    const segment = ownSegment();
    for (let i = 0; i < 5; i++) await open(segment);
    const id = await create(request({ segment, currency: 'EUR' }, { kind: 'letters', letterType: 'payment-demand', dryRun: true, asOf: '2026-03-09' }));
    expect(await sut.get(id)).toEqual({
      id,
      kind: 'letters',
      status: 'queued',
      dryRun: true,
      asOf: '2026-03-09',
      filter: { segment, currency: 'EUR' },
      letterType: 'payment-demand',
      total: 5,
      pending: 5,
      done: 0,
      failed: 0,
      skipped: 0,
      cancelled: 0,
      createdBy: 'finance@test',
      createdAt: at,
      startedAt: null,
      finishedAt: null,
    });
    await sut.start(id, later(1));
    await record(id, ['done', 'failed', 'skipped'], later(2));
    await ctx.tx((tx) => sut.cancel(tx, id, 'operator@test', later(3)));
    expect(await sut.get(id)).toMatchObject({
      status: 'cancelled',
      total: 5,
      pending: 0,
      done: 1,
      failed: 1,
      skipped: 1,
      cancelled: 2,
      startedAt: later(1),
      finishedAt: later(3),
    });
    expect(await sut.get(randomUUID())).toBeUndefined();
  });

  it('items lists a batch’s items in order, by status, after a seq, up to a limit', async () => {
    const segment = ownSegment();
    const cases: string[] = [];
    for (let i = 0; i < 4; i++) cases.push(await open(segment));
    const id = await create(request({ segment }));
    await ctx.tx((tx) =>
      sut.recordOutcomes(
        tx,
        id,
        [
          { seq: 2, caseId: cases[1]!, status: 'done', outcome: 'contacted' },
          { seq: 3, caseId: cases[2]!, status: 'failed', outcome: 'error', error: 'no address' },
        ],
        later(7),
      ),
    );
    const seqs = async (filter: { status?: string; afterSeq?: number; limit?: number }) => (await items(id, filter)).map((item) => item.seq);
    expect(await seqs({ limit: 2 })).toEqual([1, 2]);
    expect(await seqs({ afterSeq: 2 })).toEqual([3, 4]);
    expect(await seqs({ afterSeq: 2, limit: 1 })).toEqual([3]);
    expect(await seqs({ status: 'pending' })).toEqual([1, 4]);
    expect(await seqs({ status: 'pending', afterSeq: 1 })).toEqual([4]);
    expect(await seqs({ status: 'cancelled' })).toEqual([]);
    expect(await items(id, { status: 'failed' })).toEqual([
      { seq: 3, caseId: cases[2], status: 'failed', outcome: 'error', error: 'no address', amounts: null, processedAt: later(7) },
    ]);
    expect(await items(randomUUID())).toEqual([]);
  });

  it('lockStatus reads the status under a row lock that another transaction waits for until the first commits', async () => {
    const segment = ownSegment();
    await open(segment);
    const id = await create(request({ segment }));
    expect(await ctx.tx((tx) => sut.lockStatus(tx, randomUUID()))).toBeUndefined();
    let seen: string | undefined;
    let waiter: Promise<void> | undefined;
    const waited = await ctx.tx(async (tx) => {
      expect(await sut.lockStatus(tx, id)).toBe('queued');
      waiter = ctx
        .tx((other: Tx) => sut.lockStatus(other, id))
        .then((status) => {
          seen = status;
        });
      while (seen === undefined && !(await someoneWaits())) {
        // look again: the second transaction has not reached the row yet
      }
      await sut.cancel(tx, id, 'operator@test', later(1));
      return seen === undefined;
    });
    await waiter;
    expect(waited).toBe(true);
    expect(seen).toBe('cancelled');
  });

  it('cancel cancels the batch and its pending items; items already worked keep their outcome', async () => {
    const segment = ownSegment();
    for (let i = 0; i < 3; i++) await open(segment);
    const id = await create(request({ segment }));
    await sut.start(id, later(1));
    await record(id, ['done'], later(2));
    await ctx.tx((tx) => sut.cancel(tx, id, 'operator@test', later(3)));
    expect(await sut.get(id)).toMatchObject({ status: 'cancelled', done: 1, cancelled: 2, pending: 0, finishedAt: later(3) });
    expect((await items(id)).map(({ seq, status, outcome, processedAt }) => ({ seq, status, outcome, processedAt }))).toEqual([
      { seq: 1, status: 'done', outcome: 'done-outcome', processedAt: later(2) },
      { seq: 2, status: 'cancelled', outcome: null, processedAt: later(3) },
      { seq: 3, status: 'cancelled', outcome: null, processedAt: later(3) },
    ]);
    expect(await ctx.tx((tx) => sut.takeItems(tx, id, 10))).toEqual([]);
    expect(await sut.complete(id, later(4))).toBe(false);
    await sut.start(id, later(5));
    expect(await sut.get(id)).toMatchObject({ status: 'cancelled', finishedAt: later(3) });
  });

  it('stalled names the queued and running batches with pending items and no progress since the given time, and marks them started', async () => {
    const segment = ownSegment();
    await open(segment);
    await open(segment);
    const t0 = new Date('2026-01-05T10:00:00Z');
    const idle = await create(request({ segment }), { at: t0 });
    const runningIdle = await create(request({ segment }), { at: t0 });
    await sut.start(runningIdle, later(1, t0));
    const progressed = await create(request({ segment }), { at: t0 });
    await sut.start(progressed, later(1, t0));
    await record(progressed, ['done'], later(30, t0));
    const worked = await create(request({ segment }), { at: t0 });
    await sut.start(worked, later(1, t0));
    await record(worked, ['done', 'skipped'], later(2, t0));
    const cancelled = await create(request({ segment }), { at: t0 });
    await ctx.tx((tx) => sut.cancel(tx, cancelled, 'operator@test', later(2, t0)));
    const fresh = await create(request({ segment }), { at: later(40, t0) });

    const now = later(60, t0);
    const stalled = await sut.stalled(now, later(20, t0));
    expect(stalled).toEqual(expect.arrayContaining([idle, runningIdle]));
    for (const id of [progressed, worked, cancelled, fresh]) expect(stalled).not.toContain(id);
    expect(await sut.get(idle)).toMatchObject({ status: 'queued', startedAt: now });
    expect(await sut.get(runningIdle)).toMatchObject({ status: 'running', startedAt: later(1, t0) });
    expect(await sut.get(fresh)).toMatchObject({ startedAt: null });

    // Marked started at `now`, the idle batch has had no time to stall again; the running one has.
    const again = await sut.stalled(later(61, t0), later(20, t0));
    expect(again).toContain(runningIdle);
    expect(again).not.toContain(idle);
  });

  it('start runs a queued batch from the given time, once; running reads the batch as its drivers see it', async () => {
    const segment = ownSegment();
    await open(segment);
    const id = await create(request({ segment }, { kind: 'terminations', asOf: '2026-03-08', dryRun: true }));
    expect(await ctx.tx((tx) => sut.running(tx, id))).toEqual({
      id,
      kind: 'terminations',
      status: 'queued',
      asOf: '2026-03-08',
      letterType: null,
      dryRun: true,
      createdBy: 'finance@test',
    });
    await sut.start(id, later(1));
    await sut.start(id, later(2));
    expect(await sut.get(id)).toMatchObject({ status: 'running', startedAt: later(1) });
    expect(await ctx.tx((tx) => sut.running(tx, id))).toMatchObject({ status: 'running' });
    expect(await ctx.tx((tx) => sut.running(tx, randomUUID()))).toBeUndefined();
  });

  it('takeItems takes pending items in order, and skips those another transaction holds', async () => {
    const segment = ownSegment();
    const cases: string[] = [];
    for (let i = 0; i < 5; i++) cases.push(await open(segment));
    const id = await create(request({ segment }));
    await ctx.tx(async (tx) => {
      const mine = await sut.takeItems(tx, id, 2);
      expect(mine).toEqual([
        { seq: 1, caseId: cases[0] },
        { seq: 2, caseId: cases[1] },
      ]);
      const theirs = await ctx.tx((other) => sut.takeItems(other, id, 2));
      expect(theirs).toEqual([
        { seq: 3, caseId: cases[2] },
        { seq: 4, caseId: cases[3] },
      ]);
      await sut.recordOutcomes(
        tx,
        id,
        mine.map((item) => outcome(item, 'done')),
        later(1),
      );
    });
    // The other transaction ended without an outcome: its items are pending again; worked ones are not taken.
    const rest = await ctx.tx((tx) => sut.takeItems(tx, id, 10));
    expect(rest.map((item) => item.seq)).toEqual([3, 4, 5]);
  });

  it('recordOutcomes sets the status, outcome, error and time of the given items of that batch only', async () => {
    const segment = ownSegment();
    const [a, b, c] = [await open(segment), await open(segment), await open(segment)];
    const id = await create(request({ segment }));
    const other = await create(request({ segment }));
    await ctx.tx((tx) =>
      sut.recordOutcomes(
        tx,
        id,
        [
          { seq: 1, caseId: a, status: 'done', outcome: 'noticed' },
          { seq: 3, caseId: c, status: 'failed', outcome: 'error', error: 'smtp down' },
        ],
        later(9),
      ),
    );
    await ctx.tx((tx) => sut.recordOutcomes(tx, id, [{ seq: 2, caseId: b, status: 'skipped', outcome: 'on hold' }], later(10)));
    expect(await items(id)).toEqual([
      { seq: 1, caseId: a, status: 'done', outcome: 'noticed', error: null, amounts: null, processedAt: later(9) },
      { seq: 2, caseId: b, status: 'skipped', outcome: 'on hold', error: null, amounts: null, processedAt: later(10) },
      { seq: 3, caseId: c, status: 'failed', outcome: 'error', error: 'smtp down', amounts: null, processedAt: later(9) },
    ]);
    expect(await sut.get(other)).toMatchObject({ pending: 3, done: 0 });
  });

  it('recordOutcomes keeps the account figures an item acted on, which items reads back as stored; an outcome without them keeps none', async () => {
    const segment = ownSegment();
    const [a, b] = [await open(segment, { invoice: { amountDue: '400.00', lateFeeRatePerDay: '0.0005', dueDate: '2026-02-01' } }), await open(segment)];
    await ctx.tx((tx) =>
      ctx
        .get(PaymentRepository)
        .insert(tx, { caseId: a, externalId: `PAY-${randomUUID()}`, amountMinor: 10_000n, currency: 'EUR', paidAt: '2026-02-20T10:00:00Z', at }),
    );
    const figures = accountFigures(caseAccount((await ctx.get(CaseRepository).money(undefined, a))!, at));
    // The figures are worth keeping: a late fee over two balance periods and the payment that split them.
    expect(figures.lateFee!.periods).toHaveLength(2);
    expect(figures.payments).toHaveLength(1);
    const id = await create(request({ segment }, { kind: 'letters', letterType: 'payment-demand' }));

    await ctx.tx((tx) =>
      sut.recordOutcomes(
        tx,
        id,
        [
          { seq: 1, caseId: a, status: 'done', outcome: 'L-2026-000001', amounts: figures },
          { seq: 2, caseId: b, status: 'skipped', outcome: 'no address' },
        ],
        later(4),
      ),
    );

    expect(await items(id)).toEqual([
      { seq: 1, caseId: a, status: 'done', outcome: 'L-2026-000001', error: null, amounts: figures, processedAt: later(4) },
      { seq: 2, caseId: b, status: 'skipped', outcome: 'no address', error: null, amounts: null, processedAt: later(4) },
    ]);
    expect((await items(id, { status: 'done' }))[0]!.amounts).toMatchObject({ currency: 'EUR', principal: '400.00', paid: '100.00' });
  });

  it('complete marks a running batch completed once no item is pending, and answers true only the first time', async () => {
    const segment = ownSegment();
    await open(segment);
    await open(segment);
    const id = await create(request({ segment }));
    await record(id, ['done'], later(1));
    expect(await sut.complete(id, later(2))).toBe(false);
    await sut.start(id, later(3));
    expect(await sut.complete(id, later(4))).toBe(false);
    expect(await sut.get(id)).toMatchObject({ status: 'running', finishedAt: null });
    await record(id, ['failed'], later(5));
    expect(await sut.complete(id, later(6))).toBe(true);
    expect(await sut.complete(id, later(7))).toBe(false);
    expect(await sut.get(id)).toMatchObject({ status: 'completed', done: 1, failed: 1, pending: 0, finishedAt: later(6) });
  });

  it('progress counts the items of queued and running batches by batch and item status', async () => {
    const counts = async () => new Map((await sut.progress()).map((row) => [`${row.batch_status}/${row.item_status}`, row.n]));
    const change = (before: Map<string, number>, after: Map<string, number>) =>
      Object.fromEntries(
        [...new Set([...before.keys(), ...after.keys()])].map((k) => [k, (after.get(k) ?? 0) - (before.get(k) ?? 0)]).filter(([, n]) => n !== 0),
      );
    const segment = ownSegment();
    for (let i = 0; i < 3; i++) await open(segment);

    const start = await counts();
    const id = await create(request({ segment }));
    const queued = await counts();
    expect(change(start, queued)).toEqual({ 'queued/pending': 3 });
    await sut.start(id, later(1));
    await record(id, ['done', 'skipped'], later(2));
    const running = await counts();
    expect(change(start, running)).toEqual({ 'running/pending': 1, 'running/done': 1, 'running/skipped': 1 });
    await ctx.tx((tx) => sut.cancel(tx, id, 'operator@test', later(3)));
    expect(change(start, await counts())).toEqual({});
  });
});
