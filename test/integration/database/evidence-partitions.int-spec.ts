import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../../../src/audit/audit.service';
import { EvidencePartitions } from '../../../src/audit/evidence-partitions.service';
import { PartitionRepository } from '../../../src/audit/partition.repository';
import { DispatchRepository } from '../../../src/channels/dispatch.repository';
import type { TouchInput } from '../../../src/domain/touch-kinds';
import { StepRepository } from '../../../src/scheduling/step.repository';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';
import { waitFor } from '../../support/wait-for';

const MARCH_END = new Date('2026-03-31T23:59:59.000Z');
const APRIL = new Date('2026-04-01T00:00:00.000Z');
const note = (text: string): TouchInput => ({ kind: 'hold.placed', actor: 'test', data: { kind: 'dispute', reason: text } });

describe('evidence partitions', () => {
  let ctx: IntegrationContext;
  let db: DataSource;
  let sut: EvidencePartitions;

  beforeAll(async () => {
    ctx = await startIntegration('partitions', { PARTITIONS_AHEAD: '2' });
    db = ctx.get(DataSource);
    sut = ctx.get(EvidencePartitions);
  });
  afterAll(() => ctx.close());

  const partitionsOf = async (table: string): Promise<string[]> =>
    (await db.query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`, [table])).map(
      (row: { relname: string }) => row.relname,
    );
  const record = (caseId: string, ...touches: TouchInput[]) => ctx.tx((tx) => ctx.get(AuditService).record(tx, caseId, touches));

  it('the sweep creates this month and the months ahead, by the injected clock, once', async () => {
    ctx.setNow(MARCH_END);
    expect(await sut.createAhead()).toBe(6);
    expect(await partitionsOf('touches')).toEqual(expect.arrayContaining(['touches_2026_03', 'touches_2026_04', 'touches_2026_05', 'touches_default']));
    expect(await partitionsOf('dispatches')).toEqual(expect.arrayContaining(['dispatches_2026_03', 'dispatches_2026_04', 'dispatches_2026_05']));
    expect(await sut.createAhead()).toBe(0);
  });

  it('touches written across a month boundary land in two partitions and verify as one chain', async () => {
    ctx.setNow(MARCH_END);
    const { caseId } = await newCase(ctx);
    await record(caseId, note('before midnight'));
    ctx.setNow(APRIL);
    await record(caseId, note('after midnight'));
    await ctx.get(AuditService).seal();
    await record(caseId, note('after the seal'));

    const placed: { part: string; seq: number }[] = await db.query(
      `SELECT tableoid::regclass::text AS part, seq FROM touches WHERE case_id = $1 ORDER BY seq`,
      [caseId],
    );
    const last = placed[placed.length - 1]!;
    expect(placed[0]).toEqual({ part: 'touches_2026_03', seq: 1 });
    expect(last).toEqual({ part: 'touches_2026_04', seq: placed.length });
    expect(new Set(placed.map((row) => row.part))).toEqual(new Set(['touches_2026_03', 'touches_2026_04']));

    const total = (await db.query(`SELECT count(*)::int AS n FROM touches`))[0].n;
    expect(await ctx.get(AuditService).verify()).toEqual({ ok: true, checked: total, seals: 1 });
    // One chain: the first April touch links to the last March one.
    const [link] = await db.query(
      `SELECT a.prev_hash = m.hash AS linked FROM touches a JOIN touches m ON m.case_id = a.case_id AND m.seq = a.seq - 1
       WHERE a.case_id = $1 AND a.tableoid = 'touches_2026_04'::regclass AND m.tableoid = 'touches_2026_03'::regclass`,
      [caseId],
    );
    expect(link).toEqual({ linked: true });
  });

  it('a notice claimed in March and claimed again in April is one dispatch: the dedupe key holds across partitions', async () => {
    ctx.setNow(MARCH_END);
    const { stepIds, data } = await newCase(ctx, { policy: 'quick', segment: undefined });
    const stepId = stepIds[1]!;
    const claim = (at: Date) =>
      ctx.tx(async (tx) => {
        const step = (await ctx.get(StepRepository).lockForRun(tx, stepId))!;
        const id = randomUUID();
        const recipient = data.debtor.email!;
        return ctx.get(DispatchRepository).claimNotice(
          tx,
          {
            id,
            caseId: step.caseId,
            stepId,
            channel: 'email',
            recipient,
            purpose: { kind: 'notice', channel: 'email', recipient },
            messageId: `<${id}@test>`,
            debtorId: step.debtor.id,
            at,
          },
          new Date(0),
        );
      });
    const first = await claim(MARCH_END);
    const again = await claim(APRIL);
    expect(again.dispatch).toMatchObject({ id: first.dispatch.id, previous: 'sending', messageId: first.dispatch.messageId });
    const rows = await db.query(`SELECT tableoid::regclass::text AS part, attempts FROM dispatches WHERE step_id = $1`, [stepId]);
    expect(rows).toEqual([{ part: 'dispatches_2026_03', attempts: 2 }]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on each touches partition directly, the default and the ones the sweep made too', async () => {
    // A touch in every partition (the far month goes to the default one), so that the row triggers have a row to refuse.
    const { caseId } = await newCase(ctx);
    const partitions = await partitionsOf('touches');
    for (const partition of partitions) {
      const month = /^touches_(\d{4})_(\d{2})$/.exec(partition);
      ctx.setNow(new Date(month ? `${month[1]}-${month[2]}-15T12:00:00Z` : '2031-01-15T12:00:00Z'));
      await record(caseId, note(partition));
    }
    expect(partitions).toEqual(expect.arrayContaining(['touches_2026_05', 'touches_default']));
    for (const partition of partitions) {
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM ${partition}`);
      expect({ partition, hasRows: n > 0 }).toEqual({ partition, hasRows: true });
      await expect(db.query(`UPDATE ${partition} SET actor = 'someone else'`)).rejects.toThrow(/append-only: UPDATE refused/);
      await expect(db.query(`DELETE FROM ${partition}`)).rejects.toThrow(/append-only: DELETE refused/);
      await expect(db.query(`TRUNCATE ${partition}`)).rejects.toThrow(/append-only: TRUNCATE refused/);
    }
    await expect(db.query(`UPDATE touch_keys SET seq = seq + 1000`)).rejects.toThrow(/append-only/);
    await expect(db.query(`TRUNCATE touch_keys CASCADE`)).rejects.toThrow(/append-only/);
    await expect(db.query(`UPDATE dispatches SET dedupe_key = dedupe_key || 'x'`)).rejects.toThrow(/never change/);
  });

  it('leaves a month whose rows already sit in the default partition there, and creates the others', async () => {
    // The 2031-01 touch of the test above went to the default partition.
    ctx.setNow(new Date('2031-01-20T00:00:00Z'));
    expect(await sut.createAhead()).toBe(5);
    expect(await partitionsOf('touches')).not.toContain('touches_2031_01');
    expect(await partitionsOf('touches')).toEqual(expect.arrayContaining(['touches_2031_02', 'touches_2031_03']));
    expect(await partitionsOf('dispatches')).toEqual(expect.arrayContaining(['dispatches_2031_01', 'dispatches_2031_02', 'dispatches_2031_03']));
    expect(await ctx.get(AuditService).verify()).toMatchObject({ ok: true });
  });

  // The two orders writers take these locks in: an event opening a case (cases, then its first
  // touch), and touches appended before their case's chain head is updated (touches, then cases).
  it.each([
    { month: '2032-06', first: 'cases', then: 'touches, dispatches', cycle: false },
    { month: '2032-10', first: 'touches, dispatches', then: 'cases', cycle: true },
  ])(
    'yields to a writer holding $first and wanting $then: the writer commits, the sweep creates the partitions after it',
    async ({ month, first, then, cycle }) => {
      ctx.setNow(new Date(`${month}-10T00:00:00Z`));
      // Each DDL transaction starts by limiting its lock waits: counted, they are the attempts.
      const repository = ctx.get(PartitionRepository);
      const limitLockWait = repository.limitLockWait.bind(repository);
      let attempts = 0;
      repository.limitLockWait = (tx, ms) => {
        attempts++;
        return limitLockWait(tx, ms);
      };
      const writer = db.createQueryRunner();
      await writer.connect();
      try {
        await writer.startTransaction();
        await writer.query(`LOCK TABLE ${first} IN ROW EXCLUSIVE MODE`);
        const sweep = sut.createAhead();
        sweep.catch(() => undefined); // awaited below; a failure of the writer's must not leave it unhandled
        await waitFor('the sweep waiting for a lock', async () => {
          const [waiting] = await db.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE%'`);
          return waiting;
        });
        // A sweep that kept waiting past 1 s while holding what the writer wants got the writer aborted here.
        await writer.query(`LOCK TABLE ${then} IN ROW EXCLUSIVE MODE`);
        await writer.commitTransaction();
        expect(await sweep).toBe(6);
      } finally {
        await writer.release();
        repository.limitLockWait = limitLockWait;
      }
      // Holding cases while waiting for touches, the sweep closed a cycle: it gave way and tried again
      // (six partitions, more transactions). Waiting for cases first, it held nothing the writer wanted.
      if (cycle) expect(attempts).toBeGreaterThan(6);
      expect(await partitionsOf('touches')).toEqual(expect.arrayContaining([`touches_${month.replace('-', '_')}`]));
    },
  );
});
