import { randomUUID } from 'node:crypto';
import { AuditService } from '../../../src/audit/audit.service';
import { PaymentRepository } from '../../../src/cases/payment.repository';
import { PlacementRepository } from '../../../src/escalations/placement.repository';
import { ReportRepository } from '../../../src/reports/report.repository';
import { bucketLabel, dpdBucket, LEFT_BUCKETS } from '../../../src/reports/report.rules';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

const DAY = 86_400_000;

describe('ReportRepository', () => {
  let ctx: IntegrationContext;
  let sut: ReportRepository;
  const openedAt = new Date('2026-05-10T12:00:00Z');
  const window = { from: new Date('2026-05-01T00:00:00Z'), to: new Date('2026-06-01T00:00:00Z') };
  // Days past due at opening on each side of every bucket bound.
  const ages = [0, 1, 30, 31, 60, 61, 90, 91, 180, 181];
  let usdCase: string;

  beforeAll(async () => {
    ctx = await startIntegration('report_repo');
    sut = ctx.get(ReportRepository);
    ctx.setNow(openedAt);
    // As the ladder counts: not yet due is 0, and the local day the debt fell due is day 1.
    const dueFor = (days: number) => new Date(openedAt.getTime() + (days === 0 ? 3_600_000 : -(days - 1) * DAY - 3_600_000));
    for (const days of ages) await newCase(ctx, { invoice: { dueDate: dueFor(days).toISOString() } });
    // A date-only due date: due from the start of the next local day, so the opening day is day 1.
    usdCase = (await newCase(ctx, { invoice: { currency: 'USD', dueDate: '2026-05-09' } })).caseId;
  });
  afterAll(() => ctx.close());

  it('buckets days past due in SQL as the rules do, and keeps currencies apart', async () => {
    const counts = await sut.kpiCounts(window, 'dpd');
    const sql = new Map<string, number>();
    for (const row of counts) sql.set(bucketLabel(Number(row.key)), (sql.get(bucketLabel(Number(row.key))) ?? 0) + row.cases);
    const rules = new Map<string, number>();
    for (const days of [...ages, 1]) rules.set(dpdBucket(days), (rules.get(dpdBucket(days)) ?? 0) + 1);
    expect(Object.fromEntries(sql)).toEqual(Object.fromEntries(rules));

    const byPolicy = await sut.kpiCounts(window, 'policy');
    expect(byPolicy.map((row) => [row.key, row.currency, row.cases])).toEqual([
      ['quiet', 'EUR', 10],
      ['quiet', 'USD', 1],
    ]);
  });

  it('counts a malformed score as no score, and recovery only from the placement on', async () => {
    await ctx.tx((tx) =>
      ctx.get(AuditService).record(tx, usdCase, [
        { kind: 'qa.scored', actor: 'system', data: { collector: 'ana', score: 80, failed: ['hours'], autofailed: false } },
        { kind: 'qa.scored', actor: 'system', data: { collector: 'ana', score: 'high', failed: 'hours', autofailed: 'yes' } },
      ]),
    );
    expect(await sut.qaScoreSums(window, 'collector')).toEqual([{ key: 'ana', day: '2026-05-10', scored: 1, scoreSum: 80, failed: 1, autofailed: 0 }]);

    const pay = (amountMinor: bigint, paidAt: Date) =>
      ctx.tx((tx) =>
        ctx
          .get(PaymentRepository)
          .insert(tx, { caseId: usdCase, externalId: randomUUID(), amountMinor, currency: 'USD', paidAt: paidAt.toISOString(), at: paidAt }),
      );
    await pay(1_000n, new Date('2026-05-11T00:00:00Z'));
    await ctx.tx((tx) =>
      ctx.get(PlacementRepository).insert(tx, {
        id: randomUUID(),
        caseId: usdCase,
        stepId: null,
        agency: 'Acme',
        commissionRate: '0.2',
        reason: 'test',
        at: new Date('2026-05-12T00:00:00Z'),
        by: 'test',
        balanceMinor: 100_000n,
        currency: 'USD',
        webhook: 'none',
      }),
    );
    await pay(2_500n, new Date('2026-05-13T00:00:00Z'));
    expect(await sut.recoveredByAgency(window)).toEqual([{ agency: 'Acme', currency: 'USD', rate: '0.2000', placements: 1, recoveredMinor: 2_500n }]);
  });

  it('answers ages, month-end moves, funnel facts and finding counts', async () => {
    const later = new Date(openedAt.getTime() + 3 * DAY);
    expect((await sut.caseAges(window, later, 2)).every((row) => row.ageDays === 2 && row.curedDay === null)).toBe(true);
    // Every case is open at the end of May and of June: the 0-day case is in 1-30 on May 31 and 31-60 on June 30.
    const moves = await sut.bucketMoves([{ month: '2026-05', end: new Date('2026-06-01T00:00:00Z'), nextEnd: new Date('2026-07-01T00:00:00Z') }]);
    expect(moves.reduce((sum, move) => sum + move.cases, 0)).toBe(11);
    expect(moves.some((move) => move.to === LEFT_BUCKETS.cured)).toBe(false);
    expect(await sut.funnelFacts(window)).toEqual([{ contacted: false, promised: false, kept: false, paid: false, cases: 11 }]);
    expect(await sut.findingCounts(window)).toEqual([]);
  });
});
