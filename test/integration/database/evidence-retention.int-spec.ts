import { ServiceUnavailableException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../../../src/audit/audit.service';
import { EvidencePartitions } from '../../../src/audit/evidence-partitions.service';
import { EvidenceRetention, type RetentionRequest } from '../../../src/audit/evidence-retention.service';
import { DispatchRepository } from '../../../src/channels/dispatch.repository';
import { ValidationFailed } from '../../../src/common/errors';
import type { TouchInput } from '../../../src/domain/touch-kinds';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

const at = (iso: string) => new Date(iso);
const note = (text: string): TouchInput => ({ kind: 'hold.placed', actor: 'test', data: { kind: 'dispute', reason: text } });
/** Five years and two weeks after the January and February 2020 touches: their months are past a P5Y retention. */
const RUN_AT = at('2025-03-15T10:00:00Z');

describe('evidence retention', () => {
  let ctx: IntegrationContext;
  let db: DataSource;
  let sut: EvidenceRetention;
  let audit: AuditService;
  let caseId: string;

  beforeAll(async () => {
    ctx = await startIntegration('retention', { RETENTION_TOUCHES: 'P5Y', RETENTION_DISPATCHES: 'P5Y', PARTITIONS_AHEAD: '2' });
    db = ctx.get(DataSource);
    sut = ctx.get(EvidenceRetention);
    audit = ctx.get(AuditService);
    ctx.setNow(at('2020-01-31T23:59:59Z'));
    await ctx.get(EvidencePartitions).createAhead();
    const opened = await newCase(ctx);
    caseId = opened.caseId;
    ctx.setNow(at('2020-02-01T00:00:00Z'));
    await record(note('in February'));
    await ctx.tx((tx) =>
      ctx.get(DispatchRepository).insert(tx, {
        id: randomUUID(),
        caseId,
        stepId: opened.stepIds[0]!,
        channel: 'email',
        recipient: 'ana@example.test',
        purpose: { kind: 'notice', channel: 'email', recipient: 'ana@example.test' },
        messageId: '<feb@test>',
        debtorId: null,
        at: at('2020-02-01T00:00:00Z'),
      }),
    );
    await audit.seal();
    ctx.setNow(at('2020-02-20T00:00:00Z'));
    await record(note('after the first seal'));
    ctx.setNow(at('2020-03-10T00:00:00Z'));
    await record(note('in March, kept'));
  });
  afterAll(() => ctx.close());

  const record = (touch: TouchInput) => ctx.tx((tx) => audit.record(tx, caseId, [touch]));
  const attached = async (table: string): Promise<string[]> =>
    (await db.query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`, [table])).map(
      (row: { relname: string }) => row.relname,
    );
  const runs = async (): Promise<number> => (await db.query(`SELECT count(*)::int AS n FROM retention_runs`))[0].n;
  const run = (request: Partial<RetentionRequest> = {}) =>
    sut.run({ table: 'touches', mode: 'detach', note: 'ticket LEGAL-42', actor: 'admin-key', ...request });
  const exportAll = async (to: Date) => {
    const seal = await audit.lastSeal();
    await audit.recordExport({
      at: RUN_AT,
      actor: 'auditor-key',
      from: at('2020-01-01T00:00:00Z'),
      to,
      caseId: null,
      format: 'ndjson',
      touches: 1,
      seal: seal ?? null,
    });
  };

  it('refuses a run below the legal minimum, naming the field, and changes nothing', async () => {
    ctx.setNow(RUN_AT);
    const refused = run({ before: at('2021-01-01T00:00:00Z') });
    await expect(refused).rejects.toThrow(ValidationFailed);
    await expect(refused).rejects.toThrow(
      /body\.before: keeps less than the legal minimum P5Y \(RETENTION_LEGAL_MINIMUM\): must be on or before 2020-03-15T10:00:00.000Z/,
    );
    // A year earlier, the cut-off that drops January and February 2020 would keep only four years: the clock decides.
    ctx.setNow(at('2024-03-15T10:00:00Z'));
    await expect(run({ before: at('2020-03-01T00:00:00Z') })).rejects.toThrow(/body\.before: keeps less than the legal minimum P5Y/);
    expect(await run()).toMatchObject({ runId: null, partitions: [], cutoff: '2019-03-15T10:00:00.000Z' });
    expect(await attached('touches')).toEqual(expect.arrayContaining(['touches_2020_01', 'touches_2020_02']));
    expect(await runs()).toBe(0);
  });

  it('refuses until an export of those months with a seal covering every touch in them is out', async () => {
    ctx.setNow(RUN_AT);
    await expect(run()).rejects.toThrow(/no export of the whole trail from 2020-01-01T00:00:00.000Z to 2020-03-01T00:00:00.000Z/);
    // Exported, but the seal is older than the touch of February 20th.
    await exportAll(at('2020-03-01T00:00:00Z'));
    await expect(run()).rejects.toThrow(/touch \d+ of case .* \(touches_2020_02\) is not covered by seal/);
    // A case export is not an export of the trail.
    await audit.seal();
    const seal = await audit.lastSeal();
    await audit.recordExport({
      at: RUN_AT,
      actor: 'auditor-key',
      from: at('2020-01-01Z'),
      to: at('2020-03-01Z'),
      caseId,
      format: 'csv',
      touches: 1,
      seal: seal!,
    });
    await expect(run()).rejects.toThrow(/not covered by seal/);
    expect(await runs()).toBe(0);
    expect(await attached('touches')).toEqual(expect.arrayContaining(['touches_2020_01', 'touches_2020_02']));
  });

  it('detaches the touches partitions past retention after an exported seal, records it, and the trail still verifies', async () => {
    ctx.setNow(RUN_AT);
    await exportAll(at('2020-04-01T00:00:00Z'));
    const [{ n: before }] = await db.query(`SELECT count(*)::int AS n FROM touches`);
    const [{ n: removed }] = await db.query(`SELECT count(*)::int AS n FROM touches WHERE at < '2020-03-01Z'`);
    const [{ seq: lastRemoved, hash }] = await db.query(`SELECT seq, hash FROM touches WHERE case_id = $1 AND at < '2020-03-01Z' ORDER BY seq DESC LIMIT 1`, [
      caseId,
    ]);

    const outcome = await run();

    expect(outcome).toMatchObject({ table: 'touches', mode: 'detach', partitions: ['touches_2020_01', 'touches_2020_02'], anchoredCases: 1 });
    expect(await attached('touches')).not.toContain('touches_2020_01');
    expect(await attached('touches')).toContain('touches_2020_03');
    expect((await db.query(`SELECT count(*)::int AS n FROM touches`))[0].n).toBe(before - removed);
    // The detached table stays, append-only, for the operator to archive.
    expect((await db.query(`SELECT count(*)::int AS n FROM touches_2020_02`))[0].n).toBeGreaterThan(0);
    await expect(db.query(`UPDATE touches_2020_02 SET actor = 'x'`)).rejects.toThrow(/append-only/);
    await expect(db.query(`TRUNCATE touches_2020_02`)).rejects.toThrow(/append-only/);
    expect(await db.query(`SELECT table_name, mode, partitions, actor, note FROM retention_runs`)).toEqual([
      { table_name: 'touches', mode: 'detach', partitions: ['touches_2020_01', 'touches_2020_02'], actor: 'admin-key', note: 'ticket LEGAL-42' },
    ]);
    expect(await db.query(`SELECT seq, hash FROM chain_anchors WHERE case_id = $1`, [caseId])).toEqual([{ seq: lastRemoved, hash }]);
    await expect(db.query(`DELETE FROM chain_anchors`)).rejects.toThrow(/append-only/);
    await expect(db.query(`UPDATE retention_runs SET note = 'x'`)).rejects.toThrow(/append-only/);

    // The kept chain verifies from the anchor; the seals over removed heads too; and it goes on.
    expect(await audit.verify()).toEqual({ ok: true, checked: before - removed, seals: 2 });
    await record(note('after retention'));
    await audit.seal();
    expect(await audit.verify()).toMatchObject({ ok: true, seals: 3 });
    // The anchor is checked: a kept touch that does not continue it is found.
    await db.query(`ALTER TABLE touches DISABLE TRIGGER touches_append_only`);
    try {
      await db.query(`UPDATE touches SET prev_hash = 'forged' WHERE case_id = $1 AND seq = $2`, [caseId, lastRemoved + 1]);
      expect(await audit.verify()).toMatchObject({ ok: false, brokenAt: { caseId, seq: lastRemoved + 1, reason: 'broken link' } });
    } finally {
      await db.query(`UPDATE touches SET prev_hash = $3 WHERE case_id = $1 AND seq = $2`, [caseId, lastRemoved + 1, hash]);
      await db.query(`ALTER TABLE touches ENABLE TRIGGER touches_append_only`);
    }
    expect(await audit.verify()).toMatchObject({ ok: true });
  });

  it('answers 503 and removes nothing while a writer keeps the table in use through every attempt', async () => {
    ctx.setNow(RUN_AT);
    const before = await runs();
    const writer = db.createQueryRunner();
    await writer.connect();
    try {
      await writer.startTransaction();
      await writer.query('LOCK TABLE dispatches IN ROW EXCLUSIVE MODE');
      await expect(run({ table: 'dispatches', mode: 'drop' })).rejects.toBeInstanceOf(ServiceUnavailableException);
      await writer.commitTransaction();
    } finally {
      await writer.release();
    }
    expect(await attached('dispatches')).toEqual(expect.arrayContaining(['dispatches_2020_01', 'dispatches_2020_02']));
    expect(await runs()).toBe(before);
  });

  it('drops the dispatches partitions past retention; their keys stay, so a dedupe key is never reused', async () => {
    ctx.setNow(RUN_AT);
    const [key] = await db.query(`SELECT dedupe_key FROM dispatches WHERE created_at < '2020-03-01Z'`);
    const outcome = await run({ table: 'dispatches', mode: 'drop' });
    expect(outcome.partitions).toEqual(['dispatches_2020_01', 'dispatches_2020_02']);
    expect(await db.query(`SELECT to_regclass('dispatches_2020_02') AS t`)).toEqual([{ t: null }]);
    expect(await db.query(`SELECT count(*)::int AS n FROM dispatch_keys WHERE dedupe_key = $1`, [key.dedupe_key])).toEqual([{ n: 1 }]);
    expect(await runs()).toBe(2);
    // Nothing is past the cut-off any more: nothing done, nothing recorded.
    expect(await run({ table: 'dispatches', mode: 'drop' })).toMatchObject({ runId: null, partitions: [] });
    expect(await runs()).toBe(2);
  });
});
