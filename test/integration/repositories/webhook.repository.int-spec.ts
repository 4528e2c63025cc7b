import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../../../src/audit/audit.service';
import type { Tx } from '../../../src/database/transactions';
import type { TouchKind } from '../../../src/domain/touch-kinds';
import { WebhookRepository } from '../../../src/webhooks/webhook.repository';
import { WebhookSweep } from '../../../src/webhooks/webhook-sweep.service';
import { Webhooks } from '../../../src/webhooks/webhooks.service';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';
import { waitFor } from '../../support/wait-for';

describe('WebhookRepository and the sweep', () => {
  let ctx: IntegrationContext;
  let sut: WebhookRepository;

  beforeAll(async () => {
    ctx = await startIntegration('webhook_repo', { WEBHOOK_SECRETS_KEY: randomBytes(32).toString('hex'), WEBHOOK_ALLOW_PRIVATE: 'on' });
    sut = ctx.get(WebhookRepository);
  });
  afterAll(() => ctx.close());

  const record = (tx: Tx, caseId: string, kind: TouchKind, note: string) => ctx.get(AuditService).record(tx, caseId, [{ kind, actor: 'test', data: { note } }]);
  const touchId = async (note: string) =>
    (await ctx.get(DataSource).query<{ id: string }[]>(`SELECT id::text AS id FROM touches WHERE data->>'note' = $1`, [note]))[0]!.id;
  const deliveredTouches = async (endpointId: string) => (await sut.deliveries(endpointId, {}, undefined, 500)).map((delivery) => delivery.touchId).sort();

  it('makes one delivery per endpoint and touch of its kinds written after it, including a touch whose transaction commits late', async () => {
    const { caseId } = await newCase(ctx);
    await ctx.tx((tx) => record(tx, caseId, 'contact.recorded', 'before the endpoint'));
    const endpoint = await ctx.get(Webhooks).create({ url: 'http://127.0.0.1:9/hook', kinds: ['contact.recorded'], enabled: true }, 'admin-key');
    const other = await newCase(ctx);

    let commit!: () => void;
    const gate = new Promise<void>((resolve) => (commit = resolve));
    let written!: () => void;
    const inserted = new Promise<void>((resolve) => (written = resolve));
    const late = ctx.tx(async (tx) => {
      await record(tx, caseId, 'contact.recorded', 'late');
      written();
      await gate;
    });
    await inserted;
    await ctx.tx(async (tx) => {
      await record(tx, other.caseId, 'contact.recorded', 'early');
      await record(tx, other.caseId, 'hold.placed', 'not subscribed');
    });

    const sweep = ctx.get(WebhookSweep);
    await sweep.sweep();
    const early = await touchId('early');
    expect(await deliveredTouches(endpoint.id)).toEqual([early]);
    // The watermark holds while the late transaction is open: sweeping again makes nothing twice.
    await sweep.sweep();
    expect(await deliveredTouches(endpoint.id)).toEqual([early]);

    commit();
    await late;
    const lateId = await touchId('late');
    expect(BigInt(lateId)).toBeLessThan(BigInt(early));
    // Transaction ids are the cluster's: other suites' open transactions hold the snapshot back too.
    await waitFor('the late touch delivered', async () => {
      await sweep.sweep();
      return (await deliveredTouches(endpoint.id)).length === 2;
    });
    expect(await deliveredTouches(endpoint.id)).toEqual([early, lateId].sort());
    await sweep.sweep();
    expect(await deliveredTouches(endpoint.id)).toHaveLength(2);
  });

  it('disables an endpoint once, at the count of failed deliveries in a row; a delivered one resets the count', async () => {
    const endpoint = await ctx.get(Webhooks).create({ url: 'http://127.0.0.1:9/hook', kinds: ['notice.sent'], enabled: true }, 'admin-key');
    const count = (failed: boolean) => ctx.tx((tx) => sut.countOutcome(tx, endpoint.id, failed, 3, new Date(), 'failing'));
    expect(await count(true)).toEqual({ disabled: false, failures: 1 });
    expect(await count(false)).toEqual({ disabled: false, failures: 0 });
    expect(await count(true)).toEqual({ disabled: false, failures: 1 });
    expect(await count(true)).toEqual({ disabled: false, failures: 2 });
    expect(await count(true)).toEqual({ disabled: true, failures: 3 });
    expect(await count(true)).toEqual({ disabled: false, failures: 4 });
    expect(await sut.endpoint(undefined, endpoint.id)).toMatchObject({ enabled: false, disabledReason: 'failing' });
    await ctx.get(Webhooks).update(endpoint.id, { enabled: true }, 'admin-key');
    expect(await sut.endpoint(undefined, endpoint.id)).toMatchObject({ enabled: true, consecutiveFailures: 0, disabledReason: null, disabledAt: null });
  });

  it('refuses to change the attempts log', async () => {
    const db = ctx.get(DataSource);
    await sut.logAttempt(undefined, '00000000-0000-4000-8000-000000000001', 'agency', {
      attempt: 1,
      at: new Date(),
      statusCode: 500,
      error: 'x',
      durationMs: 3,
      excerpt: null,
    });
    await expect(db.query(`UPDATE webhook_attempts SET error = 'y'`)).rejects.toThrow();
    await expect(db.query('DELETE FROM webhook_attempts')).rejects.toThrow();
  });

  it('reads a delivery and its work, settles attempts only while pending, reopens for a replay, and fails one unsent', async () => {
    const { caseId } = await newCase(ctx);
    const endpoint = await ctx.get(Webhooks).create({ url: 'http://127.0.0.1:9/settle', kinds: ['promise.recorded'], enabled: true }, 'admin-key');
    await ctx.tx((tx) => record(tx, caseId, 'promise.recorded', 'to settle'));
    await ctx.tx((tx) => record(tx, caseId, 'promise.recorded', 'to fail unsent'));
    const sweep = ctx.get(WebhookSweep);
    await waitFor('both deliveries', async () => {
      await sweep.sweep();
      return (await sut.deliveries(endpoint.id, {}, undefined, 10)).length === 2;
    });
    const [unsent, settled] = await sut.deliveries(endpoint.id, {}, undefined, 10);
    expect((await sut.endpoints(undefined, 500)).map((row) => row.id)).toContain(endpoint.id);

    const work = await sut.work(settled!.id);
    expect(work).toMatchObject({ id: settled!.id, url: 'http://127.0.0.1:9/settle', endpointEnabled: true, touch: { caseId, kind: 'promise.recorded' } });
    expect(await sut.delivery(undefined, endpoint.id, settled!.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await sut.delivery(undefined, '00000000-0000-4000-8000-000000000000', settled!.id)).toBeUndefined();

    const at = new Date();
    await sut.logAttempt(undefined, settled!.id, 'endpoint', { attempt: 1, at, statusCode: 200, error: null, durationMs: 12, excerpt: null });
    expect(await ctx.tx((tx) => sut.settleAttempt(tx, settled!.id, 'delivered', 200, null, at))).toBe(1);
    // A rerun of the same job finds it settled: its attempt is not counted twice.
    expect(await ctx.tx((tx) => sut.settleAttempt(tx, settled!.id, 'delivered', 200, null, at))).toBeUndefined();
    expect(await sut.attempts(settled!.id)).toEqual([{ attempt: 1, at, statusCode: 200, error: null, durationMs: 12, excerpt: null }]);
    expect(await sut.delivery(undefined, endpoint.id, settled!.id)).toMatchObject({ status: 'delivered', attempts: 1, deliveredAt: at });

    expect(await ctx.tx((tx) => sut.reopen(tx, settled!.id))).toEqual({ id: settled!.id, replays: 1 });
    expect(await ctx.tx((tx) => sut.reopen(tx, settled!.id))).toBeUndefined();

    await sut.failUnsent(unsent!.id, 'the endpoint was disabled');
    expect(await sut.delivery(undefined, endpoint.id, unsent!.id)).toMatchObject({ status: 'failed', attempts: 0, lastError: 'the endpoint was disabled' });
  });
});
