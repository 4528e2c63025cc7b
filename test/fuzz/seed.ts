import { AuditService } from '../../src/audit/audit.service';
import { CaseRepository } from '../../src/cases/case.repository';
import { Transactions } from '../../src/database/transactions';
import type { EscalationTarget } from '../../src/domain/escalations';
import { EscalationService } from '../../src/escalations/escalation.service';
import type { FuzzApp } from './fuzz-app';
import type { Received } from './http-client';
import type { Role } from './requests';
import { waitFor } from '../support/wait-for';

const HOUR = 3_600_000;

/** One well-formed call, for seeding: fails loudly if the service does not take it. */
async function call(app: FuzzApp, method: string, path: string, role: Role, body?: unknown, headers: Record<string, string> = {}): Promise<Received> {
  const bytes = body === undefined ? null : Buffer.from(JSON.stringify(body));
  const res = await app.send({
    method,
    path,
    headers: { Authorization: `Bearer ${app.secrets()[role]}`, ...(bytes ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: bytes,
    bodyText: '',
    names: new Set(),
  });
  if (res.status >= 300) throw new Error(`seeding: ${method} ${path} answered ${res.status}: ${res.text.slice(0, 500)}`);
  return res;
}

function overdue(app: FuzzApp, n: number, overrides: { segment?: string; dueAgoHours: number; guarantor?: boolean }) {
  const tag = `${app.ctx.runTag}-seed${n}`;
  return {
    id: `evt-${tag}`,
    type: 'invoice.overdue',
    occurredAt: new Date(app.ctx.startedAt - HOUR).toISOString(),
    data: {
      invoice: {
        externalId: `INV-${tag}`,
        contractRef: `CTR-${tag}`,
        currency: 'EUR',
        amountDue: '1250.00',
        dueDate: new Date(app.ctx.startedAt - overrides.dueAgoHours * HOUR).toISOString(),
      },
      debtor: {
        externalId: `DEB-${tag}`,
        name: 'Ana Debtor',
        email: `ana-${tag}@example.test`,
        locale: n % 2 ? 'zh-CN' : 'en',
        timezone: 'Europe/Berlin',
        address: { line1: '1 Main Street', city: 'Berlin', postcode: '10115', country: 'DE' },
      },
      ...(overrides.guarantor ? { guarantors: [{ externalId: `GUA-${tag}`, name: 'Gus Guarantor', email: `gus-${tag}@example.test` }] } : {}),
      ...(overrides.segment ? { segment: overrides.segment } : {}),
    },
  };
}

/** What the step worker does when a ladder escalates (no fixture ladder escalates at once): a work item for people. */
async function escalate(app: FuzzApp, caseId: string, to: EscalationTarget): Promise<string | undefined> {
  const { app: nest } = app.sut;
  return nest.get(Transactions).run(async (tx) => {
    const kase = (await nest.get(CaseRepository).lock(tx, caseId))!;
    const escalation = await nest.get(EscalationService).escalate(tx, kase, to, 'system', { reason: 'seeded for the fuzzer' });
    await nest.get(AuditService).record(tx, caseId, escalation.touches);
    return escalation.target.workItemId;
  });
}

/**
 * Cases in several states, a hold, a letter, a batch, a work item, jobs, cursors and an
 * unsubscribe token: so that generated requests can name things that exist and reach past the
 * lookups into the code that acts.
 */
export async function seed(app: FuzzApp): Promise<void> {
  const events = [
    overdue(app, 0, { segment: 'quiet', dueAgoHours: 48 }),
    overdue(app, 1, { segment: 'quiet', dueAgoHours: 30 * 24, guarantor: true }),
    overdue(app, 2, { segment: 'quiet', dueAgoHours: 5 }),
    overdue(app, 3, { dueAgoHours: 26 }),
    // On the at-once ladder: its first email goes out now (and carries an unsubscribe link).
    overdue(app, 4, { segment: 'at-once', dueAgoHours: 2 }),
  ];
  const accepted = await call(app, 'POST', '/v1/events', 'ingest', { events });
  const results = (accepted.json as { results: { id: string; status: string; caseId?: string }[] }).results;
  if (results.some((r) => r.status !== 'accepted')) throw new Error(`seeding: events not accepted: ${accepted.text}`);
  for (const [i, event] of events.entries()) {
    app.remember('caseId', results[i]!.caseId);
    app.remember('eventId', event.id);
    app.remember('invoice', event.data.invoice.externalId);
    app.remember('debtor', event.data.debtor.externalId);
  }
  const caseIds = results.map((r) => r.caseId!);
  await app.idle();

  const hold = await call(app, 'POST', `/v1/cases/${caseIds[0]}/holds`, 'operator', { kind: 'manual', reason: 'seeded hold' });
  app.remember('holdId', (hold.json as { id: string }).id);
  const letter = await call(app, 'POST', `/v1/cases/${caseIds[1]}/letters`, 'operator', {
    type: 'document-request',
    deliver: ['email', 'post'],
    documents: ['the signed contract'],
  });
  for (const issued of (letter.json as { letters: { id: string }[] }).letters) app.remember('letterId', issued.id);
  const batch = await call(
    app,
    'POST',
    '/v1/batches',
    'finance',
    { kind: 'dunning-run', asOf: new Date(app.ctx.startedAt).toISOString().slice(0, 10), dryRun: true },
    { 'Idempotency-Key': `seed-${app.ctx.runTag}` },
  );
  app.remember('batchId', (batch.json as { id: string }).id);
  await app.idle();

  for (const [caseId, to] of [
    [caseIds[2]!, 'collector'],
    [caseIds[3]!, 'legal'],
  ] as const) {
    app.remember('workItemId', await escalate(app, caseId, to));
  }
  const jobs = await call(app, 'GET', '/v1/jobs?state=completed&limit=5', 'operator');
  for (const job of (jobs.json as { items: { id: string }[] }).items) app.remember('jobId', job.id);

  for (const path of [
    '/v1/cases?limit=1',
    `/v1/cases/${caseIds[1]}/touches?limit=1`,
    '/v1/letters?limit=1',
    `/v1/batches/${String(app.ctx.pools.batchId[0])}/items?limit=1`,
    '/v1/jobs?state=completed&limit=1',
  ]) {
    const page = await call(app, 'GET', path, 'admin');
    app.remember('cursor', (page.json as { nextCursor?: unknown }).nextCursor);
  }

  const mail = await waitFor('a reminder email with an unsubscribe link', () => app.smtp.received.find((m) => /\/v1\/unsubscribe\/[\w-]+/.test(m.text)));
  app.remember('token', /\/v1\/unsubscribe\/([\w-]+)/.exec(mail.text)?.[1]);
}
