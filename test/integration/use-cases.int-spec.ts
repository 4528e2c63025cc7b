import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../../src/audit/audit.service';
import { TouchRepository } from '../../src/audit/touch.repository';
import { CaseRepository } from '../../src/cases/case.repository';
import { CaseHolds } from '../../src/cases/case-holds.service';
import { CommitmentRepository } from '../../src/cases/commitment.repository';
import { Commitments } from '../../src/cases/commitments.service';
import { FeeRepository } from '../../src/cases/fee.repository';
import { noQueueEffects } from '../../src/domain/step';
import { EventsService } from '../../src/events/events.service';
import { JobName, QueueName } from '../../src/jobs/job-names';
import { JobQueue } from '../../src/jobs/job-queue.service';
import { Reconciler } from '../../src/scheduling/reconciler.service';
import { StepRepository } from '../../src/scheduling/step.repository';
import { StepScheduler } from '../../src/scheduling/step-scheduler.service';
import { newCase } from '../support/factories';
import { type IntegrationContext, startIntegration } from '../support/integration';
import { waitFor } from '../support/wait-for';

const HOUR = 3_600_000;

describe('use cases, without HTTP', () => {
  let ctx: IntegrationContext;
  const at = new Date('2026-03-10T08:00:00Z');
  const later = (ms: number) => new Date(at.getTime() + ms);

  beforeAll(async () => {
    ctx = await startIntegration('use_cases');
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  const kinds = async (caseId: string) => (await ctx.get(TouchRepository).caseTrail(caseId, 0, 1000)).map((touch) => touch.kind);

  describe('holds', () => {
    it('a dispute pauses the ladder and withdraws its jobs; its release resumes the steps later by the time held', async () => {
      const { caseId, stepIds } = await newCase(ctx);
      const [step] = await ctx.get(StepRepository).ofCase(caseId);
      const placed = noQueueEffects();
      await ctx.tx(async (tx) => {
        const kase = (await ctx.get(CaseRepository).lock(tx, caseId))!;
        const { touches } = await ctx.get(CaseHolds).place(tx, kase, 'dispute', 'goods not received', 'operator-1', placed);
        await ctx.get(AuditService).record(tx, caseId, touches);
      });
      expect((await ctx.get(CaseRepository).get(caseId))!.status).toBe('on_hold');
      expect(placed.withdraw).toEqual(stepIds);

      ctx.setNow(later(2 * HOUR));
      const released = noQueueEffects();
      await ctx.tx(async (tx) => {
        const kase = (await ctx.get(CaseRepository).lock(tx, caseId))!;
        const touches = await ctx.get(CaseHolds).release(tx, kase, { kinds: ['dispute'] }, 'resolved', 'operator-1', released);
        await ctx.get(AuditService).record(tx, caseId, touches);
      });
      ctx.setNow(at);
      expect((await ctx.get(CaseRepository).get(caseId))!.status).toBe('active');
      expect(released.enqueue).toEqual([{ id: step!.id, dueAt: new Date(step!.dueAt.getTime() + 2 * HOUR) }]);
      expect((await kinds(caseId)).slice(-2)).toEqual(['hold.placed', 'hold.released']);
    });

    it('a deceased hold hands the case to legal review as well', async () => {
      const { caseId } = await newCase(ctx);
      await ctx.tx(async (tx) => {
        const kase = (await ctx.get(CaseRepository).lock(tx, caseId))!;
        const { touches } = await ctx.get(CaseHolds).place(tx, kase, 'deceased', 'notified by the family', 'operator-1', noQueueEffects());
        await ctx.get(AuditService).record(tx, caseId, touches);
      });
      expect((await kinds(caseId)).slice(-2)).toEqual(['hold.placed', 'escalation.created']);
    });
  });

  describe('broken promises', () => {
    const promiseOn = async (caseId: string) => {
      const id = randomUUID();
      await ctx.tx((tx) =>
        ctx.get(CommitmentRepository).insertPromise(tx, {
          id,
          caseId,
          amountMinor: 10_000n,
          dueDate: '2026-03-05',
          pauseUntil: new Date('2026-03-08T00:00:00Z'),
          paidBeforeMinor: 0n,
          at,
          by: 'operator-1',
          source: 'test',
        }),
      );
      return id;
    };

    it("break after their grace with the policy's fee and escalation; a closed case's promise is left alone and holds up nobody", async () => {
      const closed = await newCase(ctx);
      await promiseOn(closed.caseId);
      await ctx.tx((tx) => ctx.get(CaseRepository).close(tx, closed.caseId, 'cancelled', at));
      const open = await newCase(ctx);
      await promiseOn(open.caseId);

      expect(await ctx.get(Commitments).checkDue()).toBe(1);
      // The quiet policy: a broken promise costs 15.00 and goes to a collector.
      expect((await kinds(open.caseId)).slice(-3)).toEqual(['promise.broken', 'fee.assessed', 'escalation.created']);
      // The fee is a line in the fee ledger, which the case's money reads as a fixed charge.
      expect((await ctx.get(FeeRepository).ofCase(open.caseId)).map((line) => [line.kind, line.amountMinor])).toEqual([['broken-promise', 1_500n]]);
      expect((await ctx.get(CaseRepository).money(undefined, open.caseId))!.charges).toEqual([{ at, amountMinor: 1_500n }]);
      expect(await ctx.get(FeeRepository).ofCase(closed.caseId)).toEqual([]);
      expect(await kinds(closed.caseId)).not.toContain('promise.broken');
      expect(await ctx.get(Commitments).checkDue()).toBe(0);
    });
  });

  describe('the queue', () => {
    const jobOf = (stepId: string) => ctx.get(JobQueue).queue(QueueName.Steps).getJob(stepId);

    it('enqueues a step due within the horizon as a delayed job named by the step; later steps wait for the reconciler', async () => {
      const { stepIds } = await newCase(ctx, { policy: 'quick', segment: undefined, invoice: { dueDate: later(-HOUR).toISOString() } });
      const [soon, inAnHour] = stepIds as [string, string];
      const scheduler = ctx.get(StepScheduler);
      expect(await scheduler.enqueue([{ id: soon, dueAt: later(60_000) }])).toBe(1);
      const job = (await jobOf(soon))!;
      expect(job).toMatchObject({ name: JobName.RunStep, data: { stepId: soon } });
      expect(job.opts.delay).toBe(60_000);
      // Adding the same step again adds nothing: the job id is the step id.
      await scheduler.enqueue([{ id: soon, dueAt: later(60_000) }]);
      expect(await ctx.get(JobQueue).queue(QueueName.Steps).getJobCountByTypes('delayed', 'waiting')).toBeGreaterThanOrEqual(1);
      expect(await scheduler.enqueue([{ id: inAnHour, dueAt: later(7 * HOUR) }])).toBe(0);
      expect(await jobOf(inAnHour)).toBeUndefined();
      await scheduler.withdraw([soon]);
      expect(await jobOf(soon)).toBeUndefined();
    });

    it('the reconciler adds the job of every waiting step inside the horizon that has none', async () => {
      // Due now: the quick ladder's steps fall 2 s and an hour later, both inside the horizon.
      const { stepIds } = await newCase(ctx, { policy: 'quick', segment: undefined, invoice: { dueDate: at.toISOString() } });
      const [first, second] = stepIds as [string, string];
      expect(await jobOf(first)).toBeUndefined();
      expect(await ctx.get(Reconciler).reconcile()).toBeGreaterThanOrEqual(2);
      expect(await jobOf(first)).toMatchObject({ data: { stepId: first } });
      expect(await jobOf(second)).toMatchObject({ data: { stepId: second } });
    });
  });

  describe('events', () => {
    it('runs an event again when PostgreSQL aborts it to end a deadlock: accepted, applied once', async () => {
      const { caseId, data } = await newCase(ctx);
      const db = ctx.get(DataSource);
      const other = db.createQueryRunner();
      await other.connect();
      try {
        // Another transaction holds touches, so the event waits there holding its case row.
        await other.startTransaction();
        await other.query('LOCK TABLE touches IN SHARE MODE');
        const ingest = ctx.get(EventsService).ingest(
          [
            {
              id: `evt-${randomUUID()}`,
              type: 'dispute.opened',
              occurredAt: at.toISOString(),
              data: { invoiceExternalId: data.invoice.externalId, reason: 'wrong amount' },
            },
          ],
          'test',
        );
        await waitFor('the event waiting for touches', async () => {
          const [waiting] = await db.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INTO touches%'`);
          return waiting;
        });
        // …and now waits for the event's case: the event, waiting longest, is the one PostgreSQL aborts.
        await other.query('LOCK TABLE cases IN EXCLUSIVE MODE');
        await other.commitTransaction();
        expect(await ingest).toEqual([expect.objectContaining({ status: 'accepted', caseId })]);
      } finally {
        await other.release();
      }
      expect((await ctx.get(CaseRepository).get(caseId))!.status).toBe('on_hold');
      expect((await kinds(caseId)).filter((kind) => kind === 'hold.placed')).toHaveLength(1);
    });
  });
});
