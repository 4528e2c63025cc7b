import { randomUUID } from 'node:crypto';
import type { NewFeeAssessment } from '../../src/cases/fee.repository';
import { CaseOpening } from '../../src/cases/case-opening.service';
import type { InvoiceOverdue } from '../../src/domain/events';
import { noQueueEffects, type QueueEffects } from '../../src/domain/step';
import { StepRepository } from '../../src/scheduling/step.repository';
import type { IntegrationContext } from './integration';

type Overrides = { invoice?: Partial<InvoiceOverdue['invoice']>; debtor?: Partial<InvoiceOverdue['debtor']> } & Partial<
  Omit<InvoiceOverdue, 'invoice' | 'debtor'>
>;

/** An overdue event's data with fresh references: by default on the `quiet` policy, so nothing falls due by itself. */
export function overdueData(overrides: Overrides = {}): InvoiceOverdue {
  const n = randomUUID().slice(0, 8);
  const { invoice, debtor, ...rest } = overrides;
  return {
    invoice: { externalId: `INV-${n}`, contractRef: `CTR-${n}`, currency: 'EUR', amountDue: '1250.00', dueDate: '2026-03-01', ...invoice },
    debtor: { externalId: `DEB-${n}`, name: 'Ana Debtor', email: `ana-${n}@example.test`, locale: 'en', timezone: 'Europe/Berlin', ...debtor },
    segment: 'quiet',
    ...rest,
  };
}

export interface NewCase {
  caseId: string;
  data: InvoiceOverdue;
  /** The case's planned steps, in ladder order. */
  stepIds: string[];
  effects: QueueEffects;
}

/** Opens a case the way an overdue event does (CaseOpening), committed. */
export async function newCase(ctx: IntegrationContext, overrides: Overrides = {}): Promise<NewCase> {
  const data = overdueData(overrides);
  const effects = noQueueEffects();
  const [caseId] = await ctx.tx((tx) => ctx.get(CaseOpening).open(tx, [{ eventId: `evt-${randomUUID()}`, data }], 'test', effects));
  const steps = await ctx.get(StepRepository).ofCase(caseId!);
  return { caseId: caseId!, data, stepIds: steps.map((step) => step.id), effects };
}

/** A fixed charge (a broken-promise fee) as the commitments write it to the fee ledger. */
export function chargeRow(caseId: string, amountMinor: bigint, at: Date, more: Partial<NewFeeAssessment> = {}): NewFeeAssessment {
  return {
    id: randomUUID(),
    caseId,
    kind: 'broken-promise',
    stepId: null,
    at,
    asOf: at.toISOString().slice(0, 10),
    days: 0,
    ratePerDay: '0',
    baseMinor: 0n,
    accruedMinor: amountMinor,
    amountMinor,
    capMinor: null,
    actor: 'test',
    ...more,
  };
}
