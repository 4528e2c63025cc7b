import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../../../src/audit/audit.service';
import { DispatchRepository } from '../../../src/channels/dispatch.repository';
import { dataSourceOptions, migrations } from '../../../src/database/data-source';
import { migrate } from '../../../src/database/preflight';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

const MIGRATION = 'PartitionedEvidence1766600000000';
const JANUARY_END = new Date('2026-01-31T23:59:59.000Z');
const FEBRUARY = new Date('2026-02-01T00:00:00.000Z');

/** A database with rows, as the release before partitioning left it, upgraded in place and back. */
describe('migration: partitioned evidence on a database with rows', () => {
  let ctx: IntegrationContext;
  let db: DataSource;
  let caseId: string;
  let dispatchId: string;

  beforeAll(async () => {
    ctx = await startIntegration('partition_upgrade', {}, { migrateBefore: MIGRATION });
    db = ctx.get(DataSource);
    ctx.setNow(JANUARY_END);
    const opened = await newCase(ctx);
    caseId = opened.caseId;
    ctx.setNow(FEBRUARY);
    await ctx.tx((tx) => ctx.get(AuditService).record(tx, caseId, [{ kind: 'hold.placed', actor: 'test', data: { kind: 'dispute' } }]));
    dispatchId = randomUUID();
    await ctx.tx((tx) =>
      ctx.get(DispatchRepository).insert(tx, {
        id: dispatchId,
        caseId,
        stepId: opened.stepIds[0]!,
        channel: 'email',
        recipient: 'ana@example.test',
        purpose: { kind: 'notice', channel: 'email', recipient: 'ana@example.test' },
        messageId: `<${dispatchId}@test>`,
        debtorId: null,
        at: FEBRUARY,
      }),
    );
    // References other tables hold to both: they must survive the swap.
    const [first] = await db.query(`SELECT id FROM touches WHERE case_id = $1 AND seq = 1`, [caseId]);
    await db.query(`INSERT INTO qa_scores (touch_id, case_id, score, autofailed, scored_at) VALUES ($1, $2, 90, false, $3)`, [first.id, caseId, FEBRUARY]);
    await db.query(`INSERT INTO email_address_status (address_key, status, since, dispatch_id, source) VALUES ($1, 'undeliverable', $2, $3, 'dsn')`, [
      'a'.repeat(64),
      FEBRUARY,
      dispatchId,
    ]);
    await ctx.get(AuditService).seal();
  });
  afterAll(() => ctx.close());

  const counts = async () => (await db.query(`SELECT (SELECT count(*)::int FROM touches) AS touches, (SELECT count(*)::int FROM dispatches) AS dispatches`))[0];
  const kind = async (table: string) => (await db.query(`SELECT relkind FROM pg_class WHERE oid = $1::regclass`, [table]))[0].relkind;
  const referenced = async (constraint: string) =>
    (await db.query(`SELECT confrelid::regclass::text AS target FROM pg_constraint WHERE conname = $1`, [constraint]))[0]?.target;

  async function undo(): Promise<void> {
    const source = new DataSource({ ...dataSourceOptions({ ...ctx.config, DATABASE_POOL_SIZE: 2 }), migrations });
    await source.initialize();
    try {
      // Later migrations first, then this one.
      for (;;) {
        const [last] = await source.query(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`);
        await source.undoLastMigration({ transaction: 'all' });
        if (last.name === MIGRATION) return;
      }
    } finally {
      await source.destroy();
    }
  }

  it('moves the rows into month partitions, keeps ids, references and the chain, and comes back down', async () => {
    const before = await counts();
    const [{ max: lastId }] = await db.query(`SELECT max(id)::text AS max FROM touches`);
    expect(await kind('touches')).toBe('r');

    await migrate(ctx.config);

    expect(await kind('touches')).toBe('p');
    expect(await kind('dispatches')).toBe('p');
    expect(await counts()).toEqual(before);
    const placed = await db.query(`SELECT tableoid::regclass::text AS part, seq FROM touches WHERE case_id = $1 ORDER BY seq`, [caseId]);
    expect(new Set(placed.map((row: { part: string }) => row.part))).toEqual(new Set(['touches_2026_01', 'touches_2026_02']));
    expect((await db.query(`SELECT tableoid::regclass::text AS part FROM dispatches WHERE id = $1`, [dispatchId]))[0].part).toBe('dispatches_2026_02');
    expect(await referenced('qa_scores_touch_id_fkey')).toBe('touch_keys');
    expect(await referenced('email_address_status_dispatch_id_fkey')).toBe('dispatch_keys');
    expect(await ctx.get(AuditService).verify()).toMatchObject({ ok: true, checked: before.touches, seals: 1 });

    // The sequence goes on from where it was; the global guards hold across months.
    await ctx.tx((tx) => ctx.get(AuditService).record(tx, caseId, [{ kind: 'hold.released', actor: 'test', data: { kind: 'dispute' } }]));
    const [{ max: nextId }] = await db.query(`SELECT max(id)::text AS max FROM touches`);
    expect(BigInt(nextId)).toBeGreaterThan(BigInt(lastId));
    const [head] = await db.query(`SELECT case_id, seq, kind, actor, data, prev_hash, hash FROM touches WHERE case_id = $1 AND seq = 1`, [caseId]);
    await expect(
      db.query(`INSERT INTO touches (case_id, seq, kind, at, actor, data, prev_hash, hash) VALUES ($1, $2, $3, '2026-07-01Z', $4, $5, $6, $7)`, [
        head.case_id,
        head.seq,
        head.kind,
        head.actor,
        head.data,
        head.prev_hash,
        head.hash,
      ]),
    ).rejects.toThrow(/touch_keys_case_id_seq_key/);
    const [dispatch] = await db.query(`SELECT * FROM dispatches WHERE id = $1`, [dispatchId]);
    await expect(
      db.query(
        `INSERT INTO dispatches (id, case_id, step_id, channel, recipient, dedupe_key, status, message_id, created_at) VALUES ($1, $2, $3, 'email', 'x', $4, 'pending', 'm', '2026-07-01Z')`,
        [randomUUID(), dispatch.case_id, dispatch.step_id, dispatch.dedupe_key],
      ),
    ).rejects.toThrow(/dispatch_keys_pkey/);
    await expect(
      db.query(`INSERT INTO qa_scores (touch_id, case_id, score, autofailed, scored_at) VALUES (-1, $1, 1, false, now())`, [caseId]),
    ).rejects.toThrow(/qa_scores_touch_id_fkey/);
    const after = await counts();
    const trail = async () => db.query(`SELECT id::text, case_id, seq, hash FROM touches ORDER BY id`);
    const rowsBefore = await trail();

    await undo();

    expect(await kind('touches')).toBe('r');
    expect(await kind('dispatches')).toBe('r');
    expect(await counts()).toEqual(after);
    expect(await referenced('qa_scores_touch_id_fkey')).toBe('touches');
    expect(await referenced('email_address_status_dispatch_id_fkey')).toBe('dispatches');
    // The code verifies against the newest schema; here the rows must come back as they were.
    expect(await trail()).toEqual(rowsBefore);
    await expect(db.query(`UPDATE touches SET actor = 'x' WHERE case_id = $1`, [caseId])).rejects.toThrow(/append-only/);

    await migrate(ctx.config);
    expect(await kind('touches')).toBe('p');
    expect(await counts()).toEqual(after);
    expect(await ctx.get(AuditService).verify()).toMatchObject({ ok: true, checked: after.touches });
  });
});
