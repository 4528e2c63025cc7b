import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.schema';
import { Client } from 'pg';
import { MAIN, startService } from '../support/service-process';
import { SmtpSink } from '../support/smtp-sink';
import { bearer, overdueEvent, resetStores, testEnv } from '../support/test-app';
import { waitFor } from '../support/wait-for';

// Fixed ports below Linux's ephemeral range (32768 and up), so no outgoing connection of another
// suite can hold one; the worker processes listen on PORT + 1 and PORT + 2.
describe('the service process', () => {
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm test builds it first (nest build)`);
  });

  it('on SIGTERM lets a running notice finish and be recorded, then exits 0', async () => {
    const smtp = new SmtpSink();
    let release!: () => void;
    smtp.gate = new Promise((resolve) => (release = resolve));
    const env = { ...testEnv('process', 5), PORT: '29517', SMTP_URL: await smtp.start() };
    const config = loadConfig(env);
    await resetStores(config);
    const service = startService(env);
    const db = new Client({ connectionString: config.DATABASE_URL });
    try {
      await waitFor('the service to be ready', async () => (await fetch('http://127.0.0.1:29517/health/ready')).ok, 30_000, 200);
      const event = overdueEvent({ segment: 'at-once' });
      const posted = await fetch('http://127.0.0.1:29517/v1/events', {
        method: 'POST',
        headers: { ...bearer('ingest'), 'Content-Type': 'application/json' },
        body: JSON.stringify(event),
      });
      const { results } = (await posted.json()) as { results: { caseId: string }[] };
      const caseId = results[0]!.caseId;
      await waitFor('the notice to be in flight at the mail server', () => smtp.waiting === 1);

      service.child.kill('SIGTERM');
      await waitFor('the shutdown to begin', () => service.output().includes('SIGTERM: finishing running jobs'));
      release();
      const { code } = await service.exited;
      expect(code).toBe(0);

      await db.connect();
      const { rows } = await db.query(`SELECT kind FROM touches WHERE case_id = $1 ORDER BY seq`, [caseId]);
      expect(rows.map((row) => row.kind)).toContain('notice.sent');
      const { rows: steps } = await db.query(`SELECT status FROM scheduled_steps WHERE case_id = $1 AND step_index = 0`, [caseId]);
      expect(steps).toEqual([{ status: 'done' }]);
      expect(smtp.received).toHaveLength(1);
    } catch (error) {
      service.child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${service.output()}`, { cause: error });
    } finally {
      release();
      await db.end().catch(() => undefined);
      await smtp.stop();
    }
  });

  it('a worker process serves health but not the API', async () => {
    const env = { ...testEnv('process', 5), PORT: '29518', APP_ROLE: 'worker' };
    const service = startService(env);
    try {
      await waitFor('the worker to be ready', async () => (await fetch('http://127.0.0.1:29518/health/ready')).ok, 30_000, 200);
      expect((await fetch('http://127.0.0.1:29518/v1/cases')).status).toBe(404);
    } finally {
      service.child.kill('SIGTERM');
    }
    expect((await service.exited).code).toBe(0);
  });

  it("boots with Nest's module and route lines at debug, not info", async () => {
    const boot = async (level: string) => {
      const service = startService({ ...testEnv('process', 5), PORT: '29519', LOG_LEVEL: level });
      try {
        await waitFor('the service to be ready', async () => (await fetch('http://127.0.0.1:29519/health/ready')).ok, 30_000, 200);
      } finally {
        service.child.kill('SIGTERM');
      }
      return (await service.exited).output;
    };
    const info = await boot('info');
    expect(info).toContain('Nest application successfully started');
    expect(info).not.toMatch(/"context":"(RouterExplorer|RoutesResolver|InstanceLoader)"/);
    expect(await boot('debug')).toMatch(/"level":20,[^\n]*"context":"RouterExplorer","msg":"Mapped \{\/v1\/cases, GET\} route"/);
  });

  describe('with WORKER_PROCESSES', () => {
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const start = async (port: number, extra: Record<string, string> = {}) => {
      const env = { ...testEnv('process', 5), PORT: String(port), WORKER_PROCESSES: '2', ...extra };
      await resetStores(loadConfig(env));
      const service = startService(env);
      const started = await waitFor('the worker processes to start', () => /started 2 worker processes: pids (\d+), (\d+)/.exec(service.output()), 30_000, 100);
      const pids = [Number(started[1]), Number(started[2])];
      try {
        for (const n of [1, 2])
          await waitFor(`worker process ${n} to be ready`, async () => (await fetch(`http://127.0.0.1:${port + n}/health/ready`)).ok, 30_000, 200);
      } catch (error) {
        service.child.kill('SIGKILL');
        throw new Error(`${(error as Error).message}\n${service.output()}`, { cause: error });
      }
      return { service, pids };
    };

    it('worker processes take the steps an API process plans; SIGTERM stops them all, then the API, with exit 0', async () => {
      const smtp = new SmtpSink();
      const { service, pids } = await start(29540, { APP_ROLE: 'api', SMTP_URL: await smtp.start() });
      try {
        const event = overdueEvent({ segment: 'at-once' });
        const posted = await fetch('http://127.0.0.1:29540/v1/events', {
          method: 'POST',
          headers: { ...bearer('ingest'), 'Content-Type': 'application/json' },
          body: JSON.stringify(event),
        });
        expect(posted.status).toBe(202);
        await waitFor('the notice sent by a worker process', () => smtp.to(event.data.debtor.email).length === 1);
        expect((await fetch('http://127.0.0.1:29541/v1/cases')).status).toBe(404);

        service.child.kill('SIGTERM');
        expect((await service.exited).code).toBe(0);
        expect(pids.map(alive)).toEqual([false, false]);
      } catch (error) {
        service.child.kill('SIGKILL');
        throw new Error(`${(error as Error).message}\n${service.output()}`, { cause: error });
      } finally {
        await smtp.stop();
      }
    });

    it('a worker process that dies stops the main process and the other worker, for the supervisor to restart them', async () => {
      const { service, pids } = await start(29544);
      process.kill(pids[0]!, 'SIGKILL');
      const { code, output } = await service.exited;
      expect(code).toBe(1);
      expect(output).toContain(`worker process 1 (pid ${pids[0]}) exited (SIGKILL); stopping`);
      expect(pids.map(alive)).toEqual([false, false]);
    });
    it('worker processes stop by themselves when the main process is killed', async () => {
      const { service, pids } = await start(29547);
      service.child.kill('SIGKILL');
      await service.exited;
      await waitFor('both worker processes to stop', () => pids.every((pid) => !alive(pid)), 30_000, 100);
    });
  });

  it('a bad configuration value stops the boot with a message naming the variable', async () => {
    const { code, output } = await startService({ ...testEnv('process', 5), PORT: 'eighty', RECONCILE_EVERY: 'often' }).exited;
    expect(code).toBe(1);
    expect(output).toContain('PORT');
    expect(output).toContain('RECONCILE_EVERY');
  });

  it('an unreachable PostgreSQL is named with its address and how to start one', async () => {
    const { code, output } = await startService({ ...testEnv('process', 5), DATABASE_URL: 'postgres://postgres@127.0.0.1:1/dunning' }).exited;
    expect(code).toBe(1);
    expect(output).toContain('PostgreSQL is not reachable at 127.0.0.1:1');
    expect(output).toContain('docker compose up -d postgres');
  });

  it('a port in use stops the boot with one line naming the port and the variable', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    try {
      const { code, output } = await startService({ ...testEnv('process', 5), PORT: String(port), HOST: '127.0.0.1' }).exited;
      expect(code).toBe(1);
      expect(output).toContain(`PORT ${port} on 127.0.0.1 is in use by another process`);
      expect(output).not.toMatch(/EADDRINUSE|\n\s+at /);
    } finally {
      holder.close();
    }
  });

  it('an unreachable Redis is named with its address and the way to run without it', async () => {
    const { code, output } = await startService({ ...testEnv('process', 5), REDIS_URL: 'redis://127.0.0.1:1' }).exited;
    expect(code).toBe(1);
    expect(output).toContain('Redis is not reachable at 127.0.0.1:1');
    expect(output).toContain('leave it unset to keep the queues in PostgreSQL');
  });

  it('a bad policy file stops the boot naming the file and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policies-'));
    writeFileSync(
      join(dir, 'broken.yaml'),
      'key: broken\ndefault: true\nsteps:\n  - {at: tomorrow, action: notice, channel: email, template: reminder-friendly}\n',
    );
    const { code, output } = await startService({ ...testEnv('process', 5), POLICIES_DIR: dir }).exited;
    expect(code).toBe(1);
    expect(output).toContain('broken.yaml');
    expect(output).toContain('steps[0].at');
  });

  it('a bad quality rubric stops the boot naming the file, the rule and the field', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rubric-')), 'qa.yaml');
    writeFileSync(
      file,
      'rules:\n  - {id: hours, description: d, legalBasis: l, weight: 20, autofail: true, touchKinds: [contact.recorded], check: {kind: contact-caps, callsPerDay: 0}}\n',
    );
    const { code, output } = await startService({ ...testEnv('process', 5), QA_FILE: file }).exited;
    expect(code).toBe(1);
    expect(output).toContain(`${file}: rule hours: rules[0].check.callsPerDay: must be a positive integer`);
    // The message alone, as for a bad policy file: no stack trace.
    expect(output).not.toContain('at loadRubric');
  });
});
