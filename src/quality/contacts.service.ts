import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import canonicalize from 'canonicalize';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { DomainError, NotFound, ValidationFailed } from '../common/errors';
import { Transactions } from '../database/transactions';
import type { ContactRecord } from '../domain/quality';
import { QualityRepository } from './quality.repository';

/** A contact as reported; `contactId`, when the caller gives one, makes a retry of the same report change nothing. */
export type ContactReport = Omit<ContactRecord, 'contactId'> & { contactId?: string };

/** People's contacts (calls, visits, chats, emails, letters): each a `contact.recorded` touch, scored later by the QA sweep. */
@Injectable()
export class Contacts {
  constructor(
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly quality: QualityRepository,
    private readonly clock: Clock,
  ) {}

  /** Records a contact that has happened; a breach of the rules is a finding later, never a refusal now. */
  async record(caseId: string, report: ContactReport, actor: string): Promise<ContactRecord & { caseId: string; collector: string }> {
    const now = this.clock.now();
    if (new Date(report.startedAt).getTime() > now.getTime()) {
      throw new ValidationFailed([{ field: 'body.startedAt', reason: `must not be in the future (now ${now.toISOString()})` }]);
    }
    const contact: ContactRecord = { ...report, contactId: report.contactId ?? randomUUID(), startedAt: new Date(report.startedAt).toISOString() };
    return this.transactions.run(async (tx) => {
      if (!(await this.quality.lockCase(tx, caseId))) throw new NotFound('case', caseId);
      const earlier = report.contactId ? await this.quality.contact(tx, caseId, report.contactId) : undefined;
      if (earlier) {
        // The same report again (a retry) is answered as before; another under the same id is a conflict.
        if (earlier.actor === actor && canonicalize(earlier.data) === canonicalize(contact)) return { caseId, collector: actor, ...contact };
        throw new DomainError('conflict', `contact ${contact.contactId} is already recorded on case ${caseId} with other details`, [
          { field: 'body.contactId', reason: 'is the id of another contact report' },
        ]);
      }
      await this.audit.record(tx, caseId, [{ kind: 'contact.recorded', actor, channel: contact.channel, data: { ...contact } }]);
      return { caseId, collector: actor, ...contact };
    });
  }

  async list(caseId: string) {
    if (!(await this.quality.caseExists(caseId))) throw new NotFound('case', caseId);
    const rows = await this.quality.contacts(caseId);
    return { items: rows.map((row) => ({ ...row.data, caseId, touchId: row.id, collector: row.actor, recordedAt: row.at })) };
  }
}
