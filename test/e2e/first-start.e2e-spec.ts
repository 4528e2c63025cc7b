import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, MAIN, startService } from '../support/service-process';
import { KEYS, TEST_API_KEYS } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/**
 * A machine with only Node: no DATABASE_URL and no REDIS_URL. The service starts its embedded
 * PostgreSQL and keeps its queues there; the README's first case works unchanged.
 */
describe('the first start, without PostgreSQL or Redis to point at', () => {
  let dir: string;

  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm test builds it first (nest build)`);
    dir = mkdtempSync(join(tmpdir(), 'dunning-first-start-'));
    // Run as root, the server runs as the postgres user, which must reach its data folder.
    chmodSync(dir, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Each test its own data folder: a server left running on one is used again, by design.
  const bareEnv = (test: string, port: number, databasePort: number) => ({
    PORT: String(port),
    API_KEYS: TEST_API_KEYS,
    EMBEDDED_POSTGRES_DIR: join(dir, test, 'postgres'),
    EMBEDDED_POSTGRES_PORT: String(databasePort),
    OUTBOX_DIR: join(dir, test, 'outbox'),
    // The README's policies; the gate fully open so that the email goes at any hour of the test.
    COMPLIANCE_FILE: 'test/fixtures/compliance-open.yaml',
    LOG_LEVEL: 'warn',
  });

  it("runs the README's first case on an embedded PostgreSQL with the queues in it, and stops both on SIGTERM", async () => {
    const [port, databasePort] = [await freePort(), await freePort()];
    const service = startService(bareEnv('readme', port, databasePort));
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`http://127.0.0.1:${port}${path}`, {
        ...init,
        headers: { Authorization: `Bearer ${KEYS.admin}`, 'Content-Type': 'application/json', ...init.headers },
      });
    try {
      await waitFor('the service to be ready', async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null))?.ok === true, 60_000, 200);
      expect(service.output()).toContain(`runs an embedded PostgreSQL on 127.0.0.1:${databasePort} with its data in ${join(dir, 'readme', 'postgres')}`);

      const due = new Date(Date.now() - 25 * 3600e3).toISOString();
      const overdue = {
        id: 'erp-evt-1001',
        type: 'invoice.overdue',
        occurredAt: due,
        data: {
          invoice: { externalId: 'INV-1001', currency: 'EUR', amountDue: '1250.00', dueDate: due },
          debtor: { externalId: 'CUST-42', name: 'Ana Example', email: 'ana@example.com', locale: 'en', timezone: 'Europe/Berlin' },
        },
      };
      const opened = await api('/v1/events', { method: 'POST', body: JSON.stringify(overdue) });
      expect(opened.status).toBe(202);
      const { results } = (await opened.json()) as { results: { status: string; caseId: string }[] };
      expect(results[0]).toMatchObject({ status: 'accepted' });
      const caseId = results[0]!.caseId;

      const outbox = join(dir, 'readme', 'outbox');
      const eml = await waitFor('the notice in the outbox', () => (existsSync(outbox) ? readdirSync(outbox).find((name) => name.endsWith('.eml')) : undefined));
      const message = readFileSync(join(outbox, eml), 'utf8');
      expect(message).toContain('To: ana@example.com');
      expect(message).toContain('Subject: Payment reminder: invoice INV-1001 is overdue');
      await waitFor(
        'the first step done',
        async () => ((await (await api(`/v1/cases/${caseId}`)).json()) as { schedule: { status: string }[] }).schedule[0]?.status === 'done',
      );

      const payment = {
        id: 'erp-evt-1002',
        type: 'payment.received',
        occurredAt: new Date().toISOString(),
        data: { invoiceExternalId: 'INV-1001', paymentId: 'PAY-9001', amount: '1250.00', currency: 'EUR', paidAt: new Date().toISOString() },
      };
      expect((await api('/v1/events', { method: 'POST', body: JSON.stringify(payment) })).status).toBe(202);
      expect(await (await api(`/v1/cases/${caseId}`)).json()).toMatchObject({ status: 'resolved' });
      expect(await (await api('/v1/audit/verify')).json()).toMatchObject({ ok: true });

      // The dashboard lists the three queues, as it does on Redis.
      const basic = `Basic ${Buffer.from(`admin-key:${KEYS.admin}`).toString('base64')}`;
      const board = (await (await fetch(`http://127.0.0.1:${port}/admin/queues/api/queues`, { headers: { Authorization: basic } })).json()) as {
        queues: { name: string }[];
      };
      expect(board.queues.map((queue) => queue.name).sort()).toEqual(['batches', 'steps', 'webhooks']);

      service.child.kill('SIGTERM');
      expect((await service.exited).code).toBe(0);
      const probe = new Client({ host: '127.0.0.1', port: databasePort, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2000 });
      await expect(probe.connect()).rejects.toThrow(/ECONNREFUSED/);
    } catch (error) {
      // SIGTERM, so that the service stops its PostgreSQL too.
      service.child.kill('SIGTERM');
      await service.exited;
      throw new Error(`${(error as Error).message}\n${service.output()}`, { cause: error });
    }
  });

  it('stops with one line naming EMBEDDED_POSTGRES_PORT when another process holds that port', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as AddressInfo).port;
    try {
      const { code, output } = await startService(bareEnv('port-taken', await freePort(), taken)).exited;
      expect(code).toBe(1);
      expect(output.trim().split('\n')).toEqual([
        `EMBEDDED_POSTGRES_PORT ${taken} on 127.0.0.1 is in use by another process: stop it, set EMBEDDED_POSTGRES_PORT to a free port, or set DATABASE_URL to a running PostgreSQL`,
      ]);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
