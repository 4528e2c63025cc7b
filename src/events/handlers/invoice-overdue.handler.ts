import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { CaseRepository } from '../../cases/case.repository';
import { CaseOpening, type Overdue } from '../../cases/case-opening.service';
import type { Tx } from '../../database/transactions';
import type { InvoiceOverdue } from '../../domain/events';
import type { QueueEffects } from '../../domain/step';
import { PolicyRegistry } from '../../policies/policy-registry.service';
import { type Applied, type EventHandler, EventRejected } from '../event-handler';

/** `invoice.overdue` opens a case, unless one is already open for the invoice. */
@Injectable()
export class InvoiceOverdueHandler implements EventHandler<'invoice.overdue'> {
  constructor(
    private readonly audit: AuditService,
    private readonly cases: CaseRepository,
    private readonly opening: CaseOpening,
    private readonly policies: PolicyRegistry,
  ) {}

  async apply(tx: Tx, eventId: string, data: InvoiceOverdue, actor: string, effects: QueueEffects): Promise<Applied> {
    if (data.policy && !this.policies.has(data.policy)) throw new EventRejected(`data.policy: unknown policy "${data.policy}"`);
    const existing = await this.cases.openOfInvoice(tx, data.invoice.externalId);
    if (existing) {
      // A second overdue event for an invoice with an open case changes nothing but is on the record.
      await this.audit.record(tx, existing, [
        { kind: 'event.received', actor, data: { eventId, type: 'invoice.overdue', note: 'a case is already open for this invoice' } },
      ]);
      return { caseId: existing };
    }
    const [caseId] = await this.opening.open(tx, [{ eventId, data }], actor, effects);
    return { caseId };
  }

  /** Whether each event names a known policy, or none. */
  knowsPolicies(items: readonly Overdue[]): boolean {
    return items.every(({ data }) => !data.policy || this.policies.has(data.policy));
  }
}
