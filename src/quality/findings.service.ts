import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { CURSOR, decodeCursor, pageOf } from '../common/cursor';
import { DomainError, NotFound } from '../common/errors';
import { Transactions, type Tx } from '../database/transactions';
import { type FindingStatus, type FindingView, QualityRepository } from './quality.repository';

export interface FindingQuery {
  status?: FindingStatus;
  rule?: string;
  collector?: string;
  caseId?: string;
  cursor?: string;
  limit: number;
}

export type ReviewDecision = 'confirm' | 'overturn';

const VERDICT: Record<ReviewDecision, FindingStatus> = { confirm: 'confirmed', overturn: 'overturned' };

/** The review queue: inspectors confirm or overturn findings, the collector whose contact it was may appeal first. */
@Injectable()
export class Findings {
  constructor(
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly quality: QualityRepository,
    private readonly clock: Clock,
  ) {}

  /** Oldest first, the order inspectors work the queue in. */
  async list(query: FindingQuery) {
    const [createdAt, id] = query.cursor ? decodeCursor(query.cursor, CURSOR.instantAndId) : [];
    const rows = await this.quality.listFindings({
      status: query.status,
      ruleId: query.rule,
      collector: query.collector,
      caseId: query.caseId,
      after: createdAt !== undefined && id !== undefined ? { createdAt, id } : undefined,
      limit: query.limit + 1,
    });
    const { page, nextCursor } = pageOf(rows, query.limit, (last) => [new Date(last.createdAt).toISOString(), last.id]);
    return { items: page, nextCursor };
  }

  async get(id: string): Promise<FindingView> {
    const finding = await this.quality.finding(undefined, id);
    if (!finding) throw new NotFound('finding', id);
    return finding;
  }

  /** An inspector's verdict on an open or appealed finding; a finding is reviewed once. */
  async review(id: string, decision: ReviewDecision, note: string, reviewer: string): Promise<FindingView> {
    return this.transactions.run(async (tx) => {
      const finding = await this.lock(tx, id);
      if (finding.status === 'confirmed' || finding.status === 'overturned') {
        throw new DomainError('conflict', `finding ${id} is already ${finding.status} by ${finding.reviewer}; a finding is reviewed once`);
      }
      const status = VERDICT[decision];
      await this.quality.review(tx, id, status, reviewer, note, this.clock.now());
      await this.audit.record(tx, finding.caseId, [
        {
          kind: 'qa.finding.reviewed',
          actor: reviewer,
          data: {
            findingId: id,
            touchId: finding.touchId,
            ruleId: finding.ruleId,
            collector: finding.collector,
            decision,
            status,
            previous: finding.status,
            note,
          },
        },
      ]);
      return (await this.quality.finding(tx, id))!;
    });
  }

  /** The collector's appeal of an open finding on their own contact, before an inspector reviews it. */
  async appeal(id: string, note: string, collector: string): Promise<FindingView> {
    return this.transactions.run(async (tx) => {
      const finding = await this.lock(tx, id);
      if (finding.collector !== collector) {
        throw new DomainError('conflict', `finding ${id} is on a contact by ${finding.collector}; only they may appeal it`);
      }
      if (finding.status !== 'open') throw new DomainError('conflict', `finding ${id} is ${finding.status}; only an open finding can be appealed`);
      await this.quality.appeal(tx, id);
      await this.audit.record(tx, finding.caseId, [
        { kind: 'qa.finding.appealed', actor: collector, data: { findingId: id, touchId: finding.touchId, ruleId: finding.ruleId, note } },
      ]);
      return (await this.quality.finding(tx, id))!;
    });
  }

  /** The case first, as every audit writer locks it, then the finding. */
  private async lock(tx: Tx, id: string): Promise<FindingView> {
    const caseId = await this.quality.caseOfFinding(tx, id);
    if (!caseId) throw new NotFound('finding', id);
    await this.audit.lockHead(tx, caseId);
    return (await this.quality.lockFinding(tx, id))!;
  }
}
