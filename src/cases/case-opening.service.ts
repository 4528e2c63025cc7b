import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Tx } from '../database/transactions';
import { calendarDueDate } from '../domain/calendar';
import type { InvoiceOverdue } from '../domain/events';
import { type PlannedStep, planLadder, resolveDueAt } from '../domain/ladder';
import { guaranteeEndsOn, limitationDate, limitationStart } from '../domain/legal-clocks';
import { formatMinorUnits, toMinorUnits } from '../domain/money';
import type { PolicyVersion } from '../domain/policy';
import { deriveSegment } from '../domain/segments';
import type { QueueEffects } from '../domain/step';
import { EMPTY_CHAIN } from '../domain/touch-chain';
import type { TouchInput } from '../domain/touch-kinds';
import { AuditService } from '../audit/audit.service';
import { ContactGate } from '../compliance/contact-gate.service';
import { type ArmAssignment, PolicyAssignment } from '../experiments/policy-assignment.service';
import { StepRepository } from '../scheduling/step.repository';
import { CaseRepository } from './case.repository';
import { DebtorRepository } from './debtor.repository';
import { GuarantorRepository, type NewGuarantor } from './guarantor.repository';
import { InvoiceRepository } from './invoice.repository';
import { LimitationClock } from './limitation-clock.service';

/** An overdue event to open a case for. */
export interface Overdue {
  eventId: string;
  data: InvoiceOverdue;
}

interface LegalTerms {
  jurisdiction: string | null;
  limitationDate: string;
  limitation: { startsOn: string; period: string; fromYearEnd: boolean; law: string };
  guarantors: Omit<NewGuarantor, 'caseId'>[];
}

type Planned = PlannedStep & { id: string; plannedFrom?: Date };

/** Opens cases from overdue events: debtor, invoice, case, planned steps, guarantors and the first touches. */
@Injectable()
export class CaseOpening {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly policies: PolicyAssignment,
    private readonly gate: ContactGate,
    private readonly limitation: LimitationClock,
    private readonly cases: CaseRepository,
    private readonly debtors: DebtorRepository,
    private readonly invoices: InvoiceRepository,
    private readonly guarantors: GuarantorRepository,
    private readonly steps: StepRepository,
  ) {}

  /**
   * Opens one case per overdue event with a handful of set-based statements, whatever the count:
   * upsert debtors and invoices, insert cases (with their audit heads), steps, guarantors and
   * touches. The caller holds the invoices' lanes and has checked that none has an open case.
   */
  async open(tx: Tx, items: readonly Overdue[], actor: string, effects: QueueEffects): Promise<string[]> {
    if (items.length === 0) return [];
    const now = this.clock.now();
    // One row per debtor: a batch may name a debtor twice, and an upsert may touch a row once.
    const debtorDetails = [...new Map(items.map(({ data }) => [data.debtor.externalId, data.debtor])).values()];
    const debtorRows = await this.debtors.upsertMany(tx, debtorDetails, { locale: this.config.DEFAULT_LOCALE, timezone: this.config.DEFAULT_TIMEZONE }, now);
    const debtorByExternalId = new Map(debtorRows.map((row) => [row.external_id, row]));
    const repeat = await this.cases.debtorsWithCases(
      tx,
      debtorRows.map((row) => row.id),
    );

    const segments = items.map(({ data }) => {
      const debtor = debtorByExternalId.get(data.debtor.externalId)!;
      return data.segment ?? deriveSegment(debtor.wilful, repeat.has(debtor.id));
    });
    // The policy files' choice, or the one a promotion or a running experiment puts in its place.
    const assigned = await this.policies.assign(
      tx,
      items.map(({ data }, i) => ({ debtorExternalId: data.debtor.externalId, segment: segments[i]!, policyKey: data.policy })),
    );

    const opened = items.map(({ eventId, data }, i) => {
      const debtor = debtorByExternalId.get(data.debtor.externalId)!;
      const dueAt = resolveDueAt(data.invoice.dueDate, debtor.timezone);
      const segment = segments[i]!;
      const { policy, arm } = assigned[i]!;
      const caseId = randomUUID();
      const planned: Planned[] = this.intoContactWindows(
        planLadder(policy.definition.steps, dueAt, debtor.timezone, now, policy.definition.catchUp),
        debtor.timezone,
        data.debtor.address?.country,
        now,
      ).map((entry) => ({ ...entry, id: randomUUID() }));
      const amountDue = toMinorUnits(data.invoice.amountDue, data.invoice.currency)!;
      const terms = this.legalTerms(data, dueAt, debtor.timezone);
      const chained = this.audit.chain(caseId, EMPTY_CHAIN, openingTouches(eventId, data, segment, policy, arm, amountDue, dueAt, terms, planned, actor));
      return { data, debtor, dueAt, segment, policy, arm, caseId, planned, amountDue, terms, chained, invoiceId: randomUUID() };
    });

    // An invoice seen before keeps its row id; the upsert tells which.
    const invoiceIds = await this.invoices.upsertMany(
      tx,
      opened.map((o) => ({
        id: o.invoiceId,
        externalId: o.data.invoice.externalId,
        debtorId: o.debtor.id,
        contractRef: o.data.invoice.contractRef ?? null,
        currency: o.data.invoice.currency,
        amountDueMinor: o.amountDue,
        dueDate: /^\d{4}-\d{2}-\d{2}$/.test(o.data.invoice.dueDate) ? o.data.invoice.dueDate : null,
        dueAt: o.dueAt,
        lateFeeRatePerDay: o.data.invoice.lateFeeRatePerDay ?? null,
        paymentAllocation: o.data.invoice.paymentAllocation ?? null,
        contractDate: o.data.invoice.contractDate ?? null,
        jurisdiction: o.terms.jurisdiction,
        limitationDate: o.terms.limitationDate,
      })),
      now,
    );
    await this.cases.insertMany(
      tx,
      opened.map((o) => ({
        id: o.caseId,
        invoiceId: invoiceIds.get(o.data.invoice.externalId)!,
        debtorId: o.debtor.id,
        policyVersionId: o.policy.id,
        segment: o.segment,
        currency: o.data.invoice.currency,
        principalMinor: o.amountDue,
        head: o.chained.head,
      })),
      now,
    );
    const steps = opened.flatMap((o) =>
      o.planned.map((p) => ({ id: p.id, caseId: o.caseId, index: p.index, step: p.step, dueAt: p.dueAt, status: p.status, outcome: p.reason ?? null })),
    );
    await this.steps.insertMany(tx, steps, now);
    await this.guarantors.insertMany(
      tx,
      opened.flatMap((o) => o.terms.guarantors.map((g) => ({ ...g, caseId: o.caseId }))),
      now,
    );
    await this.policies.record(
      tx,
      opened.flatMap((o) => (o.arm ? [{ caseId: o.caseId, arm: o.arm }] : [])),
      now,
    );
    await this.audit.appendToNewCases(
      tx,
      opened.flatMap((o) => o.chained.rows),
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
    const { limitation } = this.limitation.rules(jurisdiction);
    return {
      jurisdiction,
      limitationDate: limitationDate(dueDate, limitation),
      limitation: { startsOn: limitationStart(dueDate, limitation), period: limitation.period, fromYearEnd: limitation.fromYearEnd, law: limitation.law },
      guarantors: (data.guarantors ?? []).map((g) => ({
        id: randomUUID(),
        externalId: g.externalId,
        name: g.name,
        email: g.email ?? null,
        address: g.address ?? null,
        guaranteeEndsOn: guaranteeEndsOn(dueDate, g.guaranteePeriod ?? this.config.GUARANTEE_PERIOD),
        type: g.guaranteeType,
      })),
    };
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
}

/** The touches a case opens with: the event, the case, and each planned step. */
function openingTouches(
  eventId: string,
  data: InvoiceOverdue,
  segment: string,
  policy: PolicyVersion,
  arm: ArmAssignment | null,
  amountDue: bigint,
  dueAt: Date,
  terms: LegalTerms,
  planned: readonly Planned[],
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
        limitation: terms.limitation,
        guarantors: terms.guarantors.map((g) => ({ guarantorId: g.id, externalId: g.externalId, guaranteeEndsOn: g.guaranteeEndsOn, type: g.type })),
      },
    },
    ...(arm
      ? [
          {
            kind: 'experiment.assigned' as const,
            actor: 'system',
            data: {
              experimentId: arm.experiment.id,
              experiment: arm.experiment.name,
              arm: arm.arm,
              bucket: arm.bucket,
              champion: arm.experiment.champion,
              challenger: arm.experiment.challenger,
              challengerShare: arm.experiment.challengerShare,
              policy: policy.key,
            },
          },
        ]
      : []),
    ...planned.map((p): TouchInput => ({
      kind: p.status === 'pending' ? 'step.scheduled' : 'step.skipped',
      actor: 'system',
      data: {
        stepId: p.id,
        index: p.index,
        ...p.step,
        dueAt: p.dueAt.toISOString(),
        ...(p.reason ? { reason: p.reason } : {}),
        ...(p.rebasedFrom ? { rebasedFrom: p.rebasedFrom.toISOString(), catchUp: policy.definition.catchUp } : {}),
        ...(p.plannedFrom ? { plannedFrom: p.plannedFrom.toISOString(), note: 'moved into the contact window' } : {}),
      },
    })),
  ];
}
