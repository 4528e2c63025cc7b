import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { GuarantorRepository } from '../cases/guarantor.repository';
import { LimitationClock } from '../cases/limitation-clock.service';
import { Clock } from '../common/clock';
import { CURSOR, decodeCursor, pageOf } from '../common/cursor';
import { DomainError, NotFound, ValidationFailed } from '../common/errors';
import { Transactions, type Tx } from '../database/transactions';
import { localDate } from '../domain/calendar';
import { futureInstant } from '../domain/events';
import { LETTERS_CLAIMING_PAYMENT } from '../domain/letter-fields';
import type { TouchInput } from '../domain/touch-kinds';
import { LetterRepository, type PostStatus, type TrackedLetter } from './letter.repository';

export type { PostStatus } from './letter.repository';

export interface TrackingUpdate {
  carrier: string;
  trackingNumber: string;
  status: Exclude<PostStatus, 'queued'>;
  /** When the carrier took or delivered it; now by default. */
  at?: string;
}

export interface LetterQuery {
  caseId?: string;
  type?: string;
  delivery?: 'email' | 'post';
  status?: string;
  cursor?: string;
  limit: number;
}

/** The post moves forward only: queued → posted → delivered or returned. */
const NEXT_POST_STATUS: Record<PostStatus, PostStatus[]> = { queued: ['posted'], posted: ['delivered', 'returned'], delivered: [], returned: [] };

/** The register of issued letters: listing (the print vendor's queue), the stored PDF, and postal tracking. */
@Injectable()
export class LetterRegister {
  constructor(
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly limitation: LimitationClock,
    private readonly clock: Clock,
    private readonly letters: LetterRepository,
    private readonly guarantors: GuarantorRepository,
  ) {}

  /** Oldest first, so a print vendor works the queue in order. */
  async list(query: LetterQuery) {
    const [issuedAt, id] = query.cursor ? decodeCursor(query.cursor, CURSOR.instantAndId) : [];
    const rows = await this.letters.list({
      caseId: query.caseId,
      type: query.type,
      delivery: query.delivery,
      status: query.status,
      after: issuedAt !== undefined && id !== undefined ? { issuedAt, id } : undefined,
      limit: query.limit + 1,
    });
    const { page, nextCursor } = pageOf(rows, query.limit, (last) => [last.issuedAt.toISOString(), last.id]);
    return { items: page, nextCursor };
  }

  async get(id: string) {
    const letter = await this.letters.get(id);
    if (!letter) throw new NotFound('letter', id);
    return letter;
  }

  async pdf(id: string): Promise<{ number: string; sha256: string; pdf: Buffer }> {
    const letter = await this.letters.pdf(id);
    if (!letter) throw new NotFound('letter', id);
    return letter;
  }

  /**
   * Records the print vendor's report: posted (with carrier and tracking number), then delivered or
   * returned, each a touch. A delivered demand restarts the limitation period; a delivered guarantor
   * notice preserves the guarantee. Repeating the current status with the same tracking is a no-op.
   */
  async track(id: string, update: TrackingUpdate, actor: string) {
    await this.transactions.run(async (tx) => {
      const caseId = await this.letters.caseOf(tx, id);
      if (!caseId) throw new NotFound('letter', id);
      // The case first, as every audit writer does, then the letter.
      const head = await this.audit.lockHead(tx, caseId);
      const letter = (await this.letters.lockForTracking(tx, id))!;
      if (letter.postStatus === null || letter.postStatus === 'skipped') {
        throw new DomainError('conflict', `letter ${letter.number} is not queued for post (it has no postal delivery)`);
      }
      const sameTracking = letter.carrier === update.carrier && letter.trackingNumber === update.trackingNumber;
      if (letter.postStatus !== 'queued' && !sameTracking) {
        throw new DomainError(
          'conflict',
          `letter ${letter.number} was posted as ${letter.carrier} ${letter.trackingNumber}; tracking must name the same carrier and number`,
          [{ field: 'trackingNumber', reason: `must be ${letter.trackingNumber} (carrier ${letter.carrier})` }],
        );
      }
      if (letter.postStatus === update.status) return;
      if (!NEXT_POST_STATUS[letter.postStatus].includes(update.status)) {
        throw new DomainError('conflict', `letter ${letter.number} is ${letter.postStatus}; it cannot become ${update.status}`, [
          { field: 'status', reason: `must be one of ${NEXT_POST_STATUS[letter.postStatus].join(', ') || '(none: final)'} after ${letter.postStatus}` },
        ]);
      }
      const now = this.clock.now();
      const future = update.at ? futureInstant('body.at', update.at, now) : null;
      if (future) throw new ValidationFailed([future]);
      const at = update.at ? new Date(update.at) : now;
      // A backdated report would shorten a cure period or date a notice before it existed.
      if (at < letter.lastPostAt) {
        throw new ValidationFailed([
          {
            field: 'body.at',
            reason: `must not be before ${letter.lastPostAt.toISOString()}, when the letter was ${letter.postStatus === 'queued' ? 'issued' : 'posted'}`,
          },
        ]);
      }
      await this.letters.track(tx, id, { status: update.status, carrier: update.carrier, trackingNumber: update.trackingNumber, at });
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
      if (update.status === 'delivered') touches.push(...(await this.onDelivered(tx, id, letter, at, actor)));
      await this.audit.record(tx, letter.caseId, touches, head);
    });
    return this.get(id);
  }

  /**
   * A letter whose email was accepted reached its recipient then: the post delivers it a second
   * time. Unless the email bounced for good: then the post is what reached them.
   */
  private async onDelivered(tx: Tx, id: string, letter: TrackedLetter, at: Date, actor: string): Promise<TouchInput[]> {
    if (letter.emailStatus === 'sent' && !letter.emailBounced) return [];
    if (LETTERS_CLAIMING_PAYMENT.includes(letter.type)) {
      const source = { cause: 'letter.delivered', kind: 'letter.delivered', key: { letterId: id, number: letter.number } };
      return this.limitation.restart(tx, letter.caseId, at, 'demand-delivered', source, actor);
    }
    if (letter.type === 'guarantor-notice') await this.guarantors.markNotified(tx, letter.recipientId, localDate(at, letter.timezone));
    return [];
  }
}
