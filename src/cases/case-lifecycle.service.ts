import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import type { EntityManager } from 'typeorm';
import { AuditService, NEW_CASE_HEAD } from '../audit/audit.service';
import type { TouchInput } from '../domain/touch-kinds';
import { Clock } from '../common/clock';
import { DomainError } from '../common/errors';
import { formatMinorUnits, toMinorUnits } from '../domain/money';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { updateReturning } from '../database/sql';
import { ContactGate } from '../compliance/contact-gate.service';
import { CaseHolds, type QueueEffects } from './case-holds.service';
import { deriveSegment } from '../domain/segments';
import { type CommittedCase, Commitments } from './commitments.service';
import type {
  AcknowledgmentSigned,
  DebtorUpdated,
  DisputeEvent,
  PromiseMade,
  InvoiceCancelled,
  InvoiceOverdue,
  PaymentReceived,
} from '../events/event.schemas';
import { guaranteeEndsOn, limitationDate, restartLimitation } from '../domain/legal-clocks';
import { PlannedStep, planLadder, resolveDueAt } from '../domain/ladder';
import type { PolicyVersion } from '../domain/policy';
import { PolicyRegistry } from '../policies/policy-registry.service';

/** An event the service understood but cannot apply (unknown invoice, currency mismatch…). */
export class EventRejected extends Error {}

export type { QueueEffects } from './case-holds.service';

export interface Applied {
  /** The case the event applied to; none for a debtor update (it may touch several). */
  caseId?: string;
  duplicate?: boolean;
}

interface OpenCase {
  id: string;
  status: 'active' | 'on_hold';
  currency: string;
  balance_minor: string;
}

const OPEN = `('active', 'on_hold')`;

interface LegalTerms {
  jurisdiction: string | null;
  limitationPeriod: string;
  limitationDate: string;
  guarantors: (NonNullable<InvoiceOverdue['guarantors']>[number] & { id: string; guaranteeEndsOn: string })[];
}

/** The due date as a calendar day on the debtor's calendar (the given date, or the local day of the due instant). */
export function calendarDueDate(given: string, dueAt: Date, timezone: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(given) ? given : DateTime.fromJSDate(dueAt, { zone: timezone }).toISODate()!;
}

/** Case state changes driven by events; each writes its touches in the caller's transaction. */
@Injectable()
export class CaseLifecycle {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly policies: PolicyRegistry,
    private readonly holds: CaseHolds,
    private readonly commitments: Commitments,
    private readonly gate: ContactGate,
  ) {}

  async openCase(m: EntityManager, eventId: string, data: InvoiceOverdue, actor: string, effects: QueueEffects): Promise<Applied> {
    if (data.policy && !this.policies.has(data.policy)) throw new EventRejected(`data.policy: unknown policy "${data.policy}"`);
    const [existing] = await m.query(`SELECT c.id FROM cases c JOIN invoices i ON i.id = c.invoice_id WHERE i.external_id = $1 AND c.status IN ${OPEN}`, [
      data.invoice.externalId,
    ]);
    if (existing) {
      await this.audit.record(m, existing.id, [
        { kind: 'event.received', actor, data: { eventId, type: 'invoice.overdue', note: 'a case is already open for this invoice' } },
      ]);
      return { caseId: existing.id };
    }

    const [caseId] = await this.createCases(m, [{ eventId, data }], actor, effects);
    return { caseId };
  }

  /**
   * Opens one case per overdue event with a handful of set-based statements, whatever the count:
   * upsert debtors and invoices, insert cases (with their audit heads), steps and touches.
   * The caller holds the invoices' locks and has checked that none has an open case.
   */
  async createCases(m: EntityManager, items: readonly { eventId: string; data: InvoiceOverdue }[], actor: string, effects: QueueEffects): Promise<string[]> {
    if (items.length === 0) return [];
    const now = this.clock.now();
    // One row per debtor: a batch may name a debtor twice, and an upsert may touch a row once.
    const debtors = new Map(items.map(({ data }) => [data.debtor.externalId, data.debtor]));
    const debtorRows: { id: string; external_id: string; timezone: string; wilful: boolean }[] = await m.query(
      `INSERT INTO debtors (id, external_id, name, email, phone, address, locale, timezone, unsubscribe_token, created_at, updated_at)
       SELECT id, external_id, name, email, phone, address, COALESCE(locale, $9), COALESCE(timezone, $10), token, $11::timestamptz, $11::timestamptz
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[], $8::text[], $14::text[])
         AS given(id, external_id, name, email, phone, address, locale, timezone, token)
       ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name,
         email = COALESCE(EXCLUDED.email, debtors.email), phone = COALESCE(EXCLUDED.phone, debtors.phone),
         address = COALESCE(EXCLUDED.address, debtors.address),
         locale = CASE WHEN $12::text[] @> ARRAY[EXCLUDED.external_id] THEN EXCLUDED.locale ELSE debtors.locale END,
         timezone = CASE WHEN $13::text[] @> ARRAY[EXCLUDED.external_id] THEN EXCLUDED.timezone ELSE debtors.timezone END,
         updated_at = $11
       RETURNING id, external_id, timezone, wilful`,
      [
        [...debtors.values()].map(() => randomUUID()),
        [...debtors.keys()],
        [...debtors.values()].map((d) => d.name),
        [...debtors.values()].map((d) => d.email ?? null),
        [...debtors.values()].map((d) => d.phone ?? null),
        [...debtors.values()].map((d) => (d.address ? JSON.stringify(d.address) : null)),
        [...debtors.values()].map((d) => d.locale ?? null),
        [...debtors.values()].map((d) => d.timezone ?? null),
        this.config.DEFAULT_LOCALE,
        this.config.DEFAULT_TIMEZONE,
        now,
        // Only a locale or zone the event states replaces the stored one.
        [...debtors.values()].filter((d) => d.locale).map((d) => d.externalId),
        [...debtors.values()].filter((d) => d.timezone).map((d) => d.externalId),
        [...debtors.values()].map(() => randomBytes(24).toString('base64url')),
      ],
    );
    const debtorByExternalId = new Map(debtorRows.map((row) => [row.external_id, row]));
    const seenBefore: { debtor_id: string }[] = await m.query('SELECT DISTINCT debtor_id FROM cases WHERE debtor_id = ANY($1::uuid[])', [
      debtorRows.map((row) => row.id),
    ]);
    const repeat = new Set(seenBefore.map((row) => row.debtor_id));

    const opened = items.map(({ eventId, data }) => {
      const debtor = debtorByExternalId.get(data.debtor.externalId)!;
      const dueAt = resolveDueAt(data.invoice.dueDate, debtor.timezone);
      const segment = data.segment ?? deriveSegment(debtor.wilful, repeat.has(debtor.id));
      const policy = this.policies.choose(data.policy, segment);
      const caseId = randomUUID();
      const planned = this.intoContactWindows(
        planLadder(policy.definition.steps, dueAt, debtor.timezone, now),
        debtor.timezone,
        data.debtor.address?.country,
        now,
      ).map((entry) => ({
        ...entry,
        id: randomUUID(),
      }));
      const amountDue = toMinorUnits(data.invoice.amountDue, data.invoice.currency)!;
      const terms = this.legalTerms(data, dueAt, debtor.timezone);
      const { rows: touches, head } = this.audit.chain(
        caseId,
        NEW_CASE_HEAD,
        this.openingTouches(eventId, data, segment, policy, amountDue, dueAt, terms, planned, actor),
      );
      return { data, debtor, dueAt, segment, policy, caseId, planned, amountDue, terms, touches, head, invoiceId: randomUUID() };
    });

    const invoiceRows: { id: string; external_id: string }[] = await m.query(
      `INSERT INTO invoices (id, external_id, debtor_id, contract_ref, currency, amount_due_minor, due_date, due_at, late_fee_rate_per_day,
         contract_date, jurisdiction, limitation_date, created_at, updated_at)
       SELECT *, $13::timestamptz, $13::timestamptz
       FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::bigint[], $7::date[], $8::timestamptz[], $9::numeric[], $10::date[], $11::text[], $12::date[])
       ON CONFLICT (external_id) DO UPDATE SET debtor_id = EXCLUDED.debtor_id, contract_ref = EXCLUDED.contract_ref, currency = EXCLUDED.currency,
         amount_due_minor = EXCLUDED.amount_due_minor, due_date = EXCLUDED.due_date, due_at = EXCLUDED.due_at,
         late_fee_rate_per_day = EXCLUDED.late_fee_rate_per_day, contract_date = EXCLUDED.contract_date, jurisdiction = EXCLUDED.jurisdiction,
         -- A restart recorded earlier is not undone by the invoice being reported again.
         limitation_date = GREATEST(invoices.limitation_date, EXCLUDED.limitation_date), updated_at = $13
       RETURNING id, external_id`,
      [
        opened.map((o) => o.invoiceId),
        opened.map((o) => o.data.invoice.externalId),
        opened.map((o) => o.debtor.id),
        opened.map((o) => o.data.invoice.contractRef ?? null),
        opened.map((o) => o.data.invoice.currency),
        opened.map((o) => o.amountDue.toString()),
        opened.map((o) => (/^\d{4}-\d{2}-\d{2}$/.test(o.data.invoice.dueDate) ? o.data.invoice.dueDate : null)),
        opened.map((o) => o.dueAt),
        opened.map((o) => o.data.invoice.lateFeeRatePerDay ?? null),
        opened.map((o) => o.data.invoice.contractDate ?? null),
        opened.map((o) => o.terms.jurisdiction),
        opened.map((o) => o.terms.limitationDate),
        now,
      ],
    );
    // An invoice seen before keeps its row id; the upsert tells which.
    const invoiceIdByExternalId = new Map(invoiceRows.map((row) => [row.external_id, row.id]));

    await m.query(
      `INSERT INTO cases (id, invoice_id, debtor_id, policy_version_id, status, segment, currency, principal_minor, balance_minor,
         opened_at, updated_at, touch_seq, touch_hash)
       SELECT id, invoice_id, debtor_id, policy_version_id, 'active', segment, currency, principal, principal, $10::timestamptz, $10::timestamptz, touch_seq, touch_hash
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::bigint[], $8::int[], $9::text[])
         AS opened(id, invoice_id, debtor_id, policy_version_id, segment, currency, principal, touch_seq, touch_hash)`,
      [
        opened.map((o) => o.caseId),
        opened.map((o) => invoiceIdByExternalId.get(o.data.invoice.externalId)),
        opened.map((o) => o.debtor.id),
        opened.map((o) => o.policy.id),
        opened.map((o) => o.segment),
        opened.map((o) => o.data.invoice.currency),
        opened.map((o) => o.amountDue.toString()),
        opened.map((o) => o.head.touch_seq),
        opened.map((o) => o.head.touch_hash),
        now,
      ],
    );

    const steps = opened.flatMap((o) => o.planned.map((p) => ({ ...p, caseId: o.caseId })));
    await m.query(
      `INSERT INTO scheduled_steps (id, case_id, step_index, action, definition, due_at, status, outcome, updated_at)
       SELECT *, $9::timestamptz FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::text[], $8::text[])`,
      [
        steps.map((p) => p.id),
        steps.map((p) => p.caseId),
        steps.map((p) => p.index),
        steps.map((p) => p.step.action),
        steps.map((p) => JSON.stringify(p.step)),
        steps.map((p) => p.dueAt),
        steps.map((p) => p.status),
        steps.map((p) => p.reason ?? null),
        now,
      ],
    );
    const guarantors = opened.flatMap((o) => o.terms.guarantors.map((g) => ({ ...g, caseId: o.caseId })));
    if (guarantors.length > 0) {
      await m.query(
        `INSERT INTO guarantors (id, case_id, external_id, name, email, address, guarantee_ends_on, created_at)
         SELECT *, $8::timestamptz FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::date[])`,
        [
          guarantors.map((g) => g.id),
          guarantors.map((g) => g.caseId),
          guarantors.map((g) => g.externalId),
          guarantors.map((g) => g.name),
          guarantors.map((g) => g.email ?? null),
          guarantors.map((g) => (g.address ? JSON.stringify(g.address) : null)),
          guarantors.map((g) => g.guaranteeEndsOn),
          now,
        ],
      );
    }
    await this.audit.appendToNewCases(
      m,
      opened.flatMap((o) => o.touches),
    );
    effects.enqueue.push(...steps.filter((p) => p.status === 'pending').map((p) => ({ id: p.id, dueAt: p.dueAt })));
    return opened.map((o) => o.caseId);
  }

  /**
   * The invoice's limitation date and its guarantees, counted from the due date on the debtor's
   * calendar; the limitation period is the jurisdiction's (the invoice's, else the debtor's country).
   */
  private legalTerms(data: InvoiceOverdue, dueAt: Date, timezone: string): LegalTerms {
    const dueDate = calendarDueDate(data.invoice.dueDate, dueAt, timezone);
    const country = data.debtor.address?.country?.trim().toUpperCase();
    const jurisdiction = data.invoice.jurisdiction ?? (country && /^[A-Z]{2}$/.test(country) ? country : null);
    const period = this.limitationPeriod(jurisdiction);
    return {
      jurisdiction,
      limitationPeriod: period,
      limitationDate: limitationDate(dueDate, period),
      guarantors: (data.guarantors ?? []).map((g) => ({
        ...g,
        id: randomUUID(),
        guaranteeEndsOn: guaranteeEndsOn(dueDate, g.guaranteePeriod ?? this.config.GUARANTEE_PERIOD),
      })),
    };
  }

  /** A promise to pay (from the debtor's channel or an agent's system) pauses the ladder until its date plus grace. */
  async recordPromise(m: EntityManager, eventId: string, data: PromiseMade, actor: string, effects: QueueEffects): Promise<Applied> {
    const open = await this.findOpenCase(m, data.invoiceExternalId);
    if (data.currency && data.currency !== open.currency.trim())
      throw new EventRejected(`data.currency: promise in ${data.currency} but the case is in ${open.currency}`);
    const kase = (await this.commitments.lockCase(m, open.id))!;
    try {
      const { touches } = await this.commitments.promise(m, kase, data.amount, data.dueDate, actor, `event ${eventId}`, effects);
      await this.audit.record(m, kase.id, [{ kind: 'event.received', actor, data: { eventId, type: 'promise.made' } }, ...touches]);
    } catch (error) {
      if (error instanceof DomainError) throw new EventRejected(`data.${error.message}`);
      throw error;
    }
    return { caseId: kase.id };
  }

  /**
   * A debtor update replaces the contact details it names and sets or clears the debtor's flags.
   * A flag that becomes true places its hold on every open case of the debtor; one that becomes
   * false releases those holds. Each open case records what changed (field names, not values).
   */
  async updateDebtor(m: EntityManager, eventId: string, data: DebtorUpdated, actor: string, effects: QueueEffects): Promise<Applied> {
    const { externalId, ceaseContact, deceased, bankrupt, wilful, ...contact } = data.debtor;
    const [debtor]: { id: string }[] = await m.query('SELECT id FROM debtors WHERE external_id = $1', [externalId]);
    if (!debtor) throw new EventRejected(`data.debtor.externalId: no debtor ${externalId}`);
    const columns: Record<string, unknown> = {
      name: contact.name,
      email: contact.email,
      phone: contact.phone,
      address: contact.address ? JSON.stringify(contact.address) : undefined,
      locale: contact.locale,
      timezone: contact.timezone,
      wilful,
    };
    const given = Object.entries(columns).filter(([, value]) => value !== undefined);
    if (given.length > 0) {
      await m.query(`UPDATE debtors SET ${given.map(([column], i) => `${column} = $${i + 2}`).join(', ')}, updated_at = $${given.length + 2} WHERE id = $1`, [
        debtor.id,
        ...given.map(([, value]) => value),
        this.clock.now(),
      ]);
    }
    await this.applyDebtorFlags(m, debtor.id, { 'cease-contact': ceaseContact, deceased, bankrupt }, actor, effects, {
      kind: 'debtor.updated',
      actor,
      data: { eventId, fields: Object.keys(data.debtor).filter((key) => key !== 'externalId') },
    });
    return {};
  }

  /** Sets the debtor's hold flags and places or releases the matching holds on each open case, recording `note` there too. */
  async applyDebtorFlags(
    m: EntityManager,
    debtorId: string,
    flags: Partial<Record<'cease-contact' | 'deceased' | 'bankrupt', boolean | undefined>>,
    actor: string,
    effects: QueueEffects,
    note: TouchInput,
  ): Promise<void> {
    // Cases first, in id order, then the debtor row: the order every writer of these rows keeps.
    const cases: { id: string; status: string }[] = await m.query(
      `SELECT id, status FROM cases WHERE debtor_id = $1 AND status IN ${OPEN} ORDER BY id FOR UPDATE`,
      [debtorId],
    );
    const [before] = await m.query(`SELECT cease_contact, deceased, bankrupt FROM debtors WHERE id = $1 FOR UPDATE`, [debtorId]);
    const column = { 'cease-contact': 'cease_contact', deceased: 'deceased', bankrupt: 'bankrupt' } as const;
    const changes = (Object.keys(column) as (keyof typeof column)[]).filter((kind) => flags[kind] !== undefined && flags[kind] !== before[column[kind]]);
    if (changes.length > 0) {
      await m.query(
        `UPDATE debtors SET ${changes.map((kind, i) => `${column[kind]} = $${i + 2}`).join(', ')}, updated_at = $${changes.length + 2} WHERE id = $1`,
        [debtorId, ...changes.map((kind) => flags[kind]), this.clock.now()],
      );
    }
    for (const kase of cases) {
      const touches: TouchInput[] = [note];
      for (const kind of changes) {
        if (flags[kind]) touches.push(...(await this.holds.place(m, kase, kind, `debtor flagged ${kind}`, actor, effects)).touches);
        else touches.push(...(await this.holds.release(m, kase, { kinds: [kind] }, `debtor no longer flagged ${kind}`, actor, effects)));
      }
      await this.audit.record(m, kase.id, touches);
    }
  }

  /**
   * Future contact steps (notices, emailed letters) move to the first moment the contact gate's
   * calendar rules allow, so a step that falls at night is planned for the morning instead of being
   * deferred when it comes due. Steps due now stay: the gate decides at send time, on the record.
   */
  private intoContactWindows(planned: PlannedStep[], timezone: string, country: string | undefined, now: Date): (PlannedStep & { plannedFrom?: Date })[] {
    const code = country?.trim().toUpperCase();
    const place = { timezone, country: code && /^[A-Z]{2}$/.test(code) ? code : null };
    return planned.map((entry) => {
      const { step } = entry;
      const channel = step.action === 'notice' ? step.channel : step.action === 'letter' && step.deliver.includes('email') ? 'email' : null;
      if (entry.status !== 'pending' || !channel || entry.dueAt <= now) return entry;
      const moved = this.gate.plannedMoment(entry.dueAt, { ...place, channel });
      return moved > entry.dueAt ? { ...entry, dueAt: moved, plannedFrom: entry.dueAt } : entry;
    });
  }

  private limitationPeriod(jurisdiction: string | null): string {
    return (jurisdiction && this.config.LIMITATION_PERIODS[jurisdiction]) || this.config.LIMITATION_PERIOD;
  }

  /** A signed acknowledgment of the debt (法释〔1999〕7号) restarts the limitation period from the signing day. */
  async acknowledge(m: EntityManager, eventId: string, data: AcknowledgmentSigned, actor: string): Promise<Applied> {
    const kase = await this.findOpenCase(m, data.invoiceExternalId);
    const restart = await this.restartLimitationClock(m, kase.id, new Date(data.signedAt), { cause: 'acknowledgment.signed', eventId }, actor);
    await this.audit.record(m, kase.id, [{ kind: 'event.received', actor, data: { eventId, type: 'acknowledgment.signed' } }, ...restart]);
    return { caseId: kase.id };
  }

  /**
   * Restarts the invoice's limitation period from the debtor's local day of `at`; returns the
   * `limitation.restarted` touch, or nothing when the clock would not move later.
   */
  async restartLimitationClock(m: EntityManager, caseId: string, at: Date, cause: Record<string, unknown>, actor: string): Promise<TouchInput[]> {
    const [invoice]: { id: string; limitation_date: string; jurisdiction: string | null; timezone: string }[] = await m.query(
      `SELECT i.id, to_char(i.limitation_date, 'YYYY-MM-DD') AS limitation_date, i.jurisdiction, d.timezone
       FROM cases c JOIN invoices i ON i.id = c.invoice_id JOIN debtors d ON d.id = c.debtor_id WHERE c.id = $1 FOR UPDATE OF i`,
      [caseId],
    );
    const restartedOn = DateTime.fromJSDate(at, { zone: invoice.timezone }).toISODate()!;
    const period = this.limitationPeriod(invoice.jurisdiction);
    const next = restartLimitation(invoice.limitation_date, restartedOn, period);
    if (!next.restarted) return [];
    await m.query('UPDATE invoices SET limitation_date = $2, updated_at = $3 WHERE id = $1', [invoice.id, next.date, this.clock.now()]);
    return [{ kind: 'limitation.restarted', actor, data: { ...cause, restartedOn, period, previousDate: invoice.limitation_date, limitationDate: next.date } }];
  }

  private openingTouches(
    eventId: string,
    data: InvoiceOverdue,
    segment: string,
    policy: PolicyVersion,
    amountDue: bigint,
    dueAt: Date,
    terms: LegalTerms,
    planned: readonly (PlannedStep & { id: string; plannedFrom?: Date })[],
    actor: string,
  ): TouchInput[] {
    return [
      { kind: 'event.received', actor, data: { eventId, type: 'invoice.overdue' } },
      {
        kind: 'case.opened',
        actor,
        data: {
          invoiceExternalId: data.invoice.externalId,
          debtorExternalId: data.debtor.externalId,
          policy: policy.key,
          policyVersion: policy.version,
          segment,
          segmentSource: data.segment ? 'event' : 'history',
          currency: data.invoice.currency,
          principal: formatMinorUnits(amountDue, data.invoice.currency),
          dueAt: dueAt.toISOString(),
          jurisdiction: terms.jurisdiction,
          limitationDate: terms.limitationDate,
          guarantors: terms.guarantors.map((g) => ({ guarantorId: g.id, externalId: g.externalId, guaranteeEndsOn: g.guaranteeEndsOn })),
        },
      },
      ...planned.map((p): TouchInput => ({
        kind: p.status === 'pending' ? 'step.scheduled' : 'step.skipped',
        actor: 'system',
        data: {
          stepId: p.id,
          index: p.index,
          ...p.step,
          dueAt: p.dueAt.toISOString(),
          ...(p.reason ? { reason: p.reason } : {}),
          ...(p.plannedFrom ? { plannedFrom: p.plannedFrom.toISOString(), note: 'moved into the contact window' } : {}),
        },
      })),
    ];
  }

  async applyPayment(m: EntityManager, eventId: string, data: PaymentReceived, actor: string, effects: QueueEffects): Promise<Applied> {
    const kase = await this.findOpenCase(m, data.invoiceExternalId);
    if (data.currency !== kase.currency.trim()) {
      throw new EventRejected(`data.currency: payment in ${data.currency} but the case is in ${kase.currency}`);
    }
    const amount = toMinorUnits(data.amount, data.currency)!;
    const now = this.clock.now();
    const inserted = await m.query(
      `INSERT INTO payments (id, case_id, external_id, amount_minor, currency, paid_at, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (external_id) DO NOTHING RETURNING id`,
      [randomUUID(), kase.id, data.paymentId, amount.toString(), data.currency, data.paidAt, now],
    );
    if (inserted.length === 0) return { caseId: kase.id, duplicate: true };

    const before = BigInt(kase.balance_minor);
    const after = before > amount ? before - amount : 0n;
    const [counted] = await updateReturning<CommittedCase>(
      m,
      `UPDATE cases c SET balance_minor = $2, paid_minor = paid_minor + $4::bigint, updated_at = $3 FROM debtors d WHERE c.id = $1 AND d.id = c.debtor_id
       RETURNING c.id, c.status, trim(c.currency) AS currency, c.balance_minor, c.paid_minor, d.timezone`,
      [kase.id, after.toString(), now, amount.toString()],
    );
    const money = (minor: bigint) => formatMinorUnits(minor, data.currency);
    const touches: TouchInput[] = [
      { kind: 'event.received', actor, data: { eventId, type: 'payment.received' } },
      {
        kind: 'payment.applied',
        actor,
        data: {
          paymentId: data.paymentId,
          amount: money(amount),
          currency: data.currency,
          paidAt: data.paidAt,
          balanceBefore: money(before),
          balanceAfter: money(after),
          ...(amount > before ? { overpaid: money(amount - before) } : {}),
        },
      },
    ];
    touches.push(...(await this.commitments.onPayment(m, counted, actor, effects)));
    if (after === 0n) {
      touches.push(...(await this.close(m, kase.id, 'resolved', 'case resolved: paid in full', actor, effects)));
      touches.push({ kind: 'case.resolved', actor, data: { reason: 'paid in full', paymentId: data.paymentId } });
    }
    await this.audit.record(m, kase.id, touches);
    return { caseId: kase.id };
  }

  async cancelInvoice(m: EntityManager, eventId: string, data: InvoiceCancelled, actor: string, effects: QueueEffects): Promise<Applied> {
    const kase = await this.findOpenCase(m, data.invoiceExternalId);
    await this.audit.record(m, kase.id, [
      { kind: 'event.received', actor, data: { eventId, type: 'invoice.cancelled' } },
      ...(await this.close(m, kase.id, 'cancelled', 'invoice cancelled', actor, effects)),
      { kind: 'case.cancelled', actor, data: { reason: data.reason } },
    ]);
    return { caseId: kase.id };
  }

  /** A dispute pauses the ladder: the case goes on hold and its step jobs are withdrawn. */
  async openDispute(m: EntityManager, eventId: string, data: DisputeEvent, actor: string, effects: QueueEffects): Promise<Applied> {
    const kase = await this.findOpenCase(m, data.invoiceExternalId);
    const { touches } = await this.holds.place(m, kase, 'dispute', data.reason, actor, effects);
    await this.audit.record(m, kase.id, [{ kind: 'event.received', actor, data: { eventId, type: 'dispute.opened' } }, ...touches]);
    return { caseId: kase.id };
  }

  /** Releasing the last hold resumes the ladder where it paused (see CaseHolds.release). */
  async resolveDispute(m: EntityManager, eventId: string, data: DisputeEvent, actor: string, effects: QueueEffects): Promise<Applied> {
    const kase = await this.findOpenCase(m, data.invoiceExternalId);
    const released = await this.holds.release(m, kase, { kinds: ['dispute'] }, data.reason, actor, effects);
    if (released.length === 0) throw new EventRejected(`data.invoiceExternalId: no open dispute on invoice ${data.invoiceExternalId}`);
    await this.audit.record(m, kase.id, [{ kind: 'event.received', actor, data: { eventId, type: 'dispute.resolved' } }, ...released]);
    return { caseId: kase.id };
  }

  private async findOpenCase(m: EntityManager, invoiceExternalId: string): Promise<OpenCase> {
    const [kase] = await m.query(
      `SELECT c.id, c.status, c.currency, c.balance_minor FROM cases c JOIN invoices i ON i.id = c.invoice_id
       WHERE i.external_id = $1 AND c.status IN ${OPEN} FOR UPDATE OF c`,
      [invoiceExternalId],
    );
    if (!kase) throw new EventRejected(`data.invoiceExternalId: no open case for invoice ${invoiceExternalId}`);
    return kase;
  }

  /**
   * Closes a locked case: its waiting steps are cancelled (their jobs withdrawn after commit) and its
   * holds released. Returns those touches; the caller adds the one that says why the case closed.
   */
  async close(
    m: EntityManager,
    caseId: string,
    status: 'resolved' | 'cancelled' | 'written_off',
    reason: string,
    actor: string,
    effects: QueueEffects,
  ): Promise<TouchInput[]> {
    await m.query(`UPDATE cases SET status = $2, closed_at = $3, held_since = NULL, updated_at = $3 WHERE id = $1`, [caseId, status, this.clock.now()]);
    return [...(await this.cancelPendingSteps(m, caseId, reason, effects)), ...(await this.holds.releaseAll(m, caseId, reason, actor))];
  }

  private async cancelPendingSteps(m: EntityManager, caseId: string, reason: string, effects: QueueEffects): Promise<TouchInput[]> {
    const cancelled = await updateReturning<{ id: string; step_index: number }>(
      m,
      `UPDATE scheduled_steps SET status = 'cancelled', outcome = $2, updated_at = $3
       WHERE case_id = $1 AND status IN ('pending', 'deferred', 'failed') RETURNING id, step_index`,
      [caseId, reason, this.clock.now()],
    );
    effects.withdraw.push(...cancelled.map((step) => step.id));
    return cancelled.map((step) => ({ kind: 'step.cancelled', actor: 'system', data: { stepId: step.id, index: step.step_index, reason } }));
  }
}
