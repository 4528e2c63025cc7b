import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { TouchInput } from '../domain/touch-kinds';
import { CaseLifecycle } from '../cases/case-lifecycle.service';
import { Clock } from '../common/clock';
import { decodeCursor, pageOf } from '../common/cursor';
import { DomainError, NotFound } from '../common/errors';
import { Conditions } from '../database/sql';
import { localDate } from './case-terms';

export type PostStatus = 'queued' | 'posted' | 'delivered' | 'returned';

export interface TrackingUpdate {
  carrier: string;
  trackingNumber: string;
  status: Exclude<PostStatus, 'queued'>;
  /** When the carrier took or delivered it; now by default. */
  at?: string;
}

export interface LetterFilter {
  caseId?: string;
  type?: string;
  delivery?: 'email' | 'post';
  status?: string;
  cursor?: string;
  limit: number;
}

/** The post moves forward only: queued → posted → delivered or returned. */
const NEXT_POST_STATUS: Record<PostStatus, PostStatus[]> = { queued: ['posted'], posted: ['delivered', 'returned'], delivered: [], returned: [] };
/** Letters that demand payment: their delivery interrupts the limitation period. */
const DEMANDS = new Set(['payment-demand', 'contract-termination']);

const LETTER_VIEW = `l.id, l.case_id AS "caseId", l.step_id AS "stepId", l.number, l.type, l.locale,
  json_build_object('role', l.recipient_role, 'id', l.recipient_id, 'name', l.recipient_name, 'email', l.recipient_email, 'address', l.recipient_address) AS recipient,
  l.sha256, octet_length(l.pdf) AS size, l.template_key AS "templateKey", l.template_version AS "templateVersion", l.deliver,
  json_build_object(
    'email', CASE WHEN l.email_status IS NULL THEN NULL ELSE json_build_object('status', l.email_status, 'messageId', x.message_id, 'sentAt', x.sent_at) END,
    'post', CASE WHEN l.post_status IS NULL THEN NULL ELSE json_build_object('status', l.post_status, 'carrier', l.carrier, 'trackingNumber', l.tracking_number,
      'postedAt', l.posted_at, 'deliveredAt', l.delivered_at, 'returnedAt', l.returned_at) END
  ) AS deliveries,
  l.issued_at AS "issuedAt", l.issued_by AS "issuedBy"`;
const LETTER_FROM = 'FROM letters l LEFT JOIN dispatches x ON x.id = l.email_dispatch_id';

/** The register of issued letters: listing (the print vendor's queue), the stored PDF, and postal tracking. */
@Injectable()
export class LetterRegister {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly lifecycle: CaseLifecycle,
    private readonly clock: Clock,
  ) {}

  /** Oldest first, so a print vendor works the queue in order. */
  async list(filter: LetterFilter) {
    const where = new Conditions();
    if (filter.caseId) where.add('l.case_id = ?', filter.caseId);
    if (filter.type) where.add('l.type = ?', filter.type);
    if (filter.delivery) where.add(filter.delivery === 'email' ? 'l.email_status IS NOT NULL' : 'l.post_status IS NOT NULL');
    if (filter.status) where.add(filter.delivery === 'email' ? 'l.email_status = ?' : 'l.post_status = ?', filter.status);
    if (filter.cursor) where.add('(l.issued_at, l.id) > (?, ?)', ...decodeCursor<[string, string]>(filter.cursor, 2));
    const rows: { id: string; issuedAt: Date }[] = await this.dataSource.query(
      `SELECT ${LETTER_VIEW} ${LETTER_FROM} ${where.where} ORDER BY l.issued_at, l.id LIMIT ${filter.limit + 1}`,
      where.params,
    );
    const { page, nextCursor } = pageOf(rows, filter.limit, (last) => [last.issuedAt.toISOString(), last.id]);
    return { items: page, nextCursor };
  }

  async get(id: string) {
    const [letter] = await this.dataSource.query(`SELECT ${LETTER_VIEW}, l.fields ${LETTER_FROM} WHERE l.id = $1`, [id]);
    if (!letter) throw new NotFound('letter', id);
    return letter;
  }

  async pdf(id: string): Promise<{ number: string; sha256: string; pdf: Buffer }> {
    const [letter] = await this.dataSource.query('SELECT number, sha256, pdf FROM letters WHERE id = $1', [id]);
    if (!letter) throw new NotFound('letter', id);
    return letter;
  }

  /**
   * Records the print vendor's report: posted (with carrier and tracking number), then delivered or
   * returned, each a touch. A delivered demand restarts the limitation period; a delivered guarantor
   * notice preserves the guarantee. Repeating the current status with the same tracking is a no-op.
   */
  async track(id: string, update: TrackingUpdate, actor: string) {
    await this.dataSource.transaction(async (m) => {
      const [owner] = await m.query('SELECT case_id FROM letters WHERE id = $1', [id]);
      if (!owner) throw new NotFound('letter', id);
      // The case first, as every audit writer does, then the letter.
      await m.query('SELECT 1 FROM cases WHERE id = $1 FOR UPDATE', [owner.case_id]);
      const [letter]: {
        case_id: string;
        number: string;
        type: string;
        sha256: string;
        recipient_role: string;
        recipient_id: string;
        post_status: PostStatus | 'skipped' | null;
        carrier: string | null;
        tracking_number: string | null;
        timezone: string;
      }[] = await m.query(
        `SELECT l.case_id, l.number, l.type, l.sha256, l.recipient_role, l.recipient_id, l.post_status, l.carrier, l.tracking_number, d.timezone
         FROM letters l JOIN cases c ON c.id = l.case_id JOIN debtors d ON d.id = c.debtor_id WHERE l.id = $1 FOR UPDATE OF l`,
        [id],
      );
      if (letter.post_status === null || letter.post_status === 'skipped') {
        throw new DomainError('conflict', `letter ${letter.number} is not queued for post (it has no postal delivery)`);
      }
      const sameTracking = letter.carrier === update.carrier && letter.tracking_number === update.trackingNumber;
      if (letter.post_status !== 'queued' && !sameTracking) {
        throw new DomainError(
          'conflict',
          `letter ${letter.number} was posted as ${letter.carrier} ${letter.tracking_number}; tracking must name the same carrier and number`,
          [{ field: 'trackingNumber', reason: `must be ${letter.tracking_number} (carrier ${letter.carrier})` }],
        );
      }
      if (letter.post_status === update.status) return;
      if (!NEXT_POST_STATUS[letter.post_status].includes(update.status)) {
        throw new DomainError('conflict', `letter ${letter.number} is ${letter.post_status}; it cannot become ${update.status}`, [
          { field: 'status', reason: `must be one of ${NEXT_POST_STATUS[letter.post_status].join(', ') || '(none: final)'} after ${letter.post_status}` },
        ]);
      }
      const at = update.at ? new Date(update.at) : this.clock.now();
      const column = { posted: 'posted_at', delivered: 'delivered_at', returned: 'returned_at' }[update.status];
      await m.query(`UPDATE letters SET post_status = $2, carrier = $3, tracking_number = $4, ${column} = $5 WHERE id = $1`, [
        id,
        update.status,
        update.carrier,
        update.trackingNumber,
        at,
      ]);
      const evidence = {
        letterId: id,
        number: letter.number,
        type: letter.type,
        sha256: letter.sha256,
        carrier: update.carrier,
        trackingNumber: update.trackingNumber,
        at: at.toISOString(),
      };
      const touches: TouchInput[] = [{ kind: `letter.${update.status}`, actor, channel: 'post', data: evidence }];
      if (update.status === 'delivered') touches.push(...(await this.onDelivered(m, id, letter, at, actor)));
      await this.audit.record(m, letter.case_id, touches);
    });
    return this.get(id);
  }

  private async onDelivered(
    m: EntityManager,
    id: string,
    letter: { case_id: string; number: string; type: string; recipient_role: string; recipient_id: string; timezone: string },
    at: Date,
    actor: string,
  ): Promise<TouchInput[]> {
    if (DEMANDS.has(letter.type)) {
      return this.lifecycle.restartLimitationClock(m, letter.case_id, at, { cause: 'letter.delivered', letterId: id, number: letter.number }, actor);
    }
    if (letter.type === 'guarantor-notice') {
      await m.query('UPDATE guarantors SET notified_on = $2 WHERE id = $1 AND notified_on IS NULL', [letter.recipient_id, localDate(at, letter.timezone)]);
    }
    return [];
  }
}
