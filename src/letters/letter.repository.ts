import { Injectable } from '@nestjs/common';
import { Conditions } from '../database/sql';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import type { LetterFields, LetterType } from '../domain/letter-fields';

export type EmailStatus = 'pending' | 'sent' | 'failed' | 'skipped';
export type PostStatus = 'queued' | 'posted' | 'delivered' | 'returned';

/** A letter as issued: the evidence kept for ever (the database refuses changes to its content). */
export interface NewLetter {
  id: string;
  caseId: string;
  stepId: string;
  number: string;
  type: LetterType;
  recipient: { role: 'debtor' | 'guarantor'; id: string; name: string; email: string | null; address: Record<string, string> | null };
  locale: string;
  templateKey: string;
  templateVersion: string;
  fields: LetterFields;
  pdf: Buffer;
  sha256: string;
  deliver: readonly string[];
  emailStatus: EmailStatus | null;
  emailDispatchId: string | null;
  postStatus: 'queued' | 'skipped' | null;
  at: Date;
  by: string;
}

/** A letter's delivery state, with its email's dispatch. */
export interface LetterState {
  id: string;
  number: string;
  type: LetterType;
  recipientRole: 'debtor' | 'guarantor';
  recipientId: string;
  recipientName: string;
  recipientEmail: string | null;
  locale: string;
  templateKey: string;
  templateVersion: string;
  sha256: string;
  emailStatus: EmailStatus | null;
  postStatus: PostStatus | 'skipped' | null;
  emailDispatchId: string | null;
  dispatchStatus: string | null;
  messageId: string | null;
}

/**
 * What a letter's covering email and its `letter.sent` touch repeat from the letter: how to pay
 * and to dispute, and its deadline. Null for a letter issued before letters stated them (the
 * case and invoice let the routes be worked out afresh).
 */
export interface LetterCoverFacts {
  payment: LetterFields['payment'] | null;
  dispute: LetterFields['dispute'] | null;
  deadline: string | null;
  caseId: string;
  invoiceRef: string;
}

export interface LetterFilter {
  caseId?: string;
  type?: string;
  delivery?: 'email' | 'post';
  status?: string;
  after?: { issuedAt: string; id: string };
  limit: number;
}

/** A letter as the API shows it. */
export interface LetterView {
  id: string;
  caseId: string;
  stepId: string;
  number: string;
  type: LetterType;
  locale: string;
  recipient: { role: 'debtor' | 'guarantor'; id: string; name: string; email: string | null; address: Record<string, string> | null };
  sha256: string;
  size: number;
  templateKey: string;
  templateVersion: string;
  deliver: string[];
  /** Built as JSON in the statement, so its instants are ISO strings. */
  deliveries: {
    email: { status: EmailStatus; messageId: string | null; sentAt: string | null } | null;
    post: {
      status: PostStatus | 'skipped';
      carrier: string | null;
      trackingNumber: string | null;
      postedAt: string | null;
      deliveredAt: string | null;
      returnedAt: string | null;
    } | null;
  };
  issuedAt: Date;
  issuedBy: string;
}

/** A letter locked for a tracking update, with its case's zone. */
export interface TrackedLetter {
  caseId: string;
  number: string;
  type: LetterType;
  sha256: string;
  recipientRole: 'debtor' | 'guarantor';
  recipientId: string;
  emailStatus: EmailStatus | null;
  /** Its email bounced for good (or was complained of): the email never counted as reaching the recipient. */
  emailBounced: boolean;
  postStatus: PostStatus | 'skipped' | null;
  carrier: string | null;
  trackingNumber: string | null;
  timezone: string;
  /** The last moment the post's story has so far (posted, else issued): a later report cannot come before it. */
  lastPostAt: Date;
}

const STATE_COLUMNS = `l.id, l.number, l.type, l.recipient_role AS "recipientRole", l.recipient_id AS "recipientId", l.recipient_name AS "recipientName",
  l.recipient_email AS "recipientEmail", l.locale, l.template_key AS "templateKey", l.template_version AS "templateVersion", l.sha256,
  l.email_status AS "emailStatus", l.post_status AS "postStatus", l.email_dispatch_id AS "emailDispatchId", x.status AS "dispatchStatus", x.message_id AS "messageId"`;
const WITH_DISPATCH = 'FROM letters l LEFT JOIN dispatches x ON x.id = l.email_dispatch_id';

const VIEW = `SELECT l.id, l.case_id AS "caseId", l.step_id AS "stepId", l.number, l.type, l.locale,
  json_build_object('role', l.recipient_role, 'id', l.recipient_id, 'name', l.recipient_name, 'email', l.recipient_email, 'address', l.recipient_address) AS recipient,
  l.sha256, octet_length(l.pdf) AS size, l.template_key AS "templateKey", l.template_version AS "templateVersion", l.deliver,
  json_build_object(
    'email', CASE WHEN l.email_status IS NULL THEN NULL ELSE json_build_object('status', l.email_status, 'messageId', x.message_id, 'sentAt', x.sent_at) END,
    'post', CASE WHEN l.post_status IS NULL THEN NULL ELSE json_build_object('status', l.post_status, 'carrier', l.carrier, 'trackingNumber', l.tracking_number,
      'postedAt', l.posted_at, 'deliveredAt', l.delivered_at, 'returnedAt', l.returned_at) END
  ) AS deliveries,
  l.issued_at AS "issuedAt", l.issued_by AS "issuedBy"`;

/** Issued letters: their exact bytes, their deliveries by email and by post. */
@Injectable()
export class LetterRepository extends SqlRepository {
  /** The letters a step issued, by number. */
  ofStep(tx: Tx, stepId: string): Promise<LetterState[]> {
    return this.rows(tx, `SELECT ${STATE_COLUMNS} ${WITH_DISPATCH} WHERE l.step_id = $1 ORDER BY l.number`, [stepId]);
  }

  /** The next number of the letter register. */
  async nextNumber(tx: Tx): Promise<number> {
    const row = await this.row<{ n: string }>(tx, `SELECT nextval('letter_number_seq') AS n`);
    return Number(row!.n);
  }

  async insert(tx: Tx, letter: NewLetter): Promise<void> {
    await this.run(
      tx,
      `INSERT INTO letters (id, case_id, step_id, number, type, recipient_role, recipient_id, recipient_name, recipient_email, recipient_address,
         locale, template_key, template_version, fields, pdf, sha256, deliver, email_status, email_dispatch_id, post_status, issued_at, issued_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
      [
        letter.id,
        letter.caseId,
        letter.stepId,
        letter.number,
        letter.type,
        letter.recipient.role,
        letter.recipient.id,
        letter.recipient.name,
        letter.recipient.email,
        letter.recipient.address ? JSON.stringify(letter.recipient.address) : null,
        letter.locale,
        letter.templateKey,
        letter.templateVersion,
        JSON.stringify(letter.fields),
        letter.pdf,
        letter.sha256,
        letter.deliver,
        letter.emailStatus,
        letter.emailDispatchId,
        letter.postStatus,
        letter.at,
        letter.by,
      ],
    );
  }

  /** A letter with its bytes, the routes it states and, for a debtor, their opt-out token: what its covering email needs. */
  forEmail(id: string): Promise<(LetterState & LetterCoverFacts & { pdf: Buffer; unsubscribeToken: string | null }) | undefined> {
    return this.row(
      undefined,
      `SELECT ${STATE_COLUMNS}, l.pdf, l.fields->'payment' AS payment, l.fields->'dispute' AS dispute, l.fields->>'deadline' AS deadline, l.case_id AS "caseId", i.external_id AS "invoiceRef",
         d.unsubscribe_token AS "unsubscribeToken" ${WITH_DISPATCH}
         JOIN cases c ON c.id = l.case_id JOIN invoices i ON i.id = c.invoice_id
         LEFT JOIN debtors d ON d.id = l.recipient_id AND l.recipient_role = 'debtor' WHERE l.id = $1`,
      [id],
    );
  }

  /** The email went out; false when an earlier run already marked it. */
  async markEmailSent(tx: Tx, id: string): Promise<boolean> {
    return (await this.changed(tx, `UPDATE letters SET email_status = 'sent' WHERE id = $1 AND email_status <> 'sent' RETURNING id`, [id])).length > 0;
  }

  /** A failed letter step's emails still pending are failed; returns those letters. */
  failPendingEmails(tx: Tx, stepId: string): Promise<{ id: string; number: string }[]> {
    return this.changed(tx, `UPDATE letters SET email_status = 'failed' WHERE step_id = $1 AND email_status = 'pending' RETURNING id, number`, [stepId]);
  }

  /** Oldest first, so a print vendor works the queue in order. */
  list(filter: LetterFilter): Promise<LetterView[]> {
    const where = new Conditions();
    if (filter.caseId) where.add('l.case_id = ?', filter.caseId);
    if (filter.type) where.add('l.type = ?', filter.type);
    if (filter.delivery) where.add(filter.delivery === 'email' ? 'l.email_status IS NOT NULL' : 'l.post_status IS NOT NULL');
    if (filter.status) where.add(filter.delivery === 'email' ? 'l.email_status = ?' : 'l.post_status = ?', filter.status);
    if (filter.after) where.add('(l.issued_at, l.id) > (?, ?)', filter.after.issuedAt, filter.after.id);
    return this.rows(undefined, `${VIEW} ${WITH_DISPATCH} ${where.where} ORDER BY l.issued_at, l.id LIMIT ${where.param(filter.limit)}`, where.params);
  }

  /** A letter as the API shows it, with the fields it printed. */
  get(id: string): Promise<(LetterView & { fields: LetterFields }) | undefined> {
    return this.row(undefined, `${VIEW}, l.fields ${WITH_DISPATCH} WHERE l.id = $1`, [id]);
  }

  pdf(id: string): Promise<{ number: string; sha256: string; pdf: Buffer } | undefined> {
    return this.row(undefined, 'SELECT number, sha256, pdf FROM letters WHERE id = $1', [id]);
  }

  /** The case a letter belongs to (to lock it first). */
  async caseOf(tx: Tx, id: string): Promise<string | undefined> {
    return (await this.row<{ case_id: string }>(tx, 'SELECT case_id FROM letters WHERE id = $1', [id]))?.case_id;
  }

  /** Locks a letter for a tracking update; the caller holds its case's lock. */
  lockForTracking(tx: Tx, id: string): Promise<TrackedLetter | undefined> {
    return this.row(
      tx,
      `SELECT l.case_id AS "caseId", l.number, l.type, l.sha256, l.recipient_role AS "recipientRole", l.recipient_id AS "recipientId",
         l.email_status AS "emailStatus", l.post_status AS "postStatus", l.carrier, l.tracking_number AS "trackingNumber", d.timezone,
         COALESCE(l.posted_at, l.issued_at) AS "lastPostAt",
         EXISTS (SELECT 1 FROM dispatches x WHERE x.id = l.email_dispatch_id AND x.delivery_status = 'bounced') AS "emailBounced"
       FROM letters l JOIN cases c ON c.id = l.case_id JOIN debtors d ON d.id = c.debtor_id WHERE l.id = $1 FOR UPDATE OF l`,
      [id],
    );
  }

  /** The post's next state, with the carrier's tracking and the moment of `status`. */
  async track(tx: Tx, id: string, update: { status: Exclude<PostStatus, 'queued'>; carrier: string; trackingNumber: string; at: Date }): Promise<void> {
    const column = { posted: 'posted_at', delivered: 'delivered_at', returned: 'returned_at' }[update.status];
    await this.run(tx, `UPDATE letters SET post_status = $2, carrier = $3, tracking_number = $4, ${column} = $5 WHERE id = $1`, [
      id,
      update.status,
      update.carrier,
      update.trackingNumber,
      update.at,
    ]);
  }
}
