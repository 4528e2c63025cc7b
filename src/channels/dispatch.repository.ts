import { Injectable } from '@nestjs/common';
import { Gather } from '../database/gather';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import type { PastContact } from '../domain/contact-gate';
import type { DeliveryStatus } from '../domain/delivery-status';
import { dispatchKey, type DispatchPurpose } from '../domain/dispatch-key';
import type { DispatchStatus } from '../domain/statuses';

/** A dispatch as the sender needs it: a rerun finds the row of the first run, maybe already sent. */
export interface ClaimedDispatch {
  id: string;
  /** After the claim: `sent` when an earlier run sent and recorded it, else `sending`. */
  status: DispatchStatus;
  /** Before the claim: null on the first run; `sending` when a crash interrupted the last send. */
  previous: DispatchStatus | null;
  messageId: string;
}

export interface NewDispatch {
  id: string;
  caseId: string;
  stepId: string;
  channel: 'email' | 'sms';
  recipient: string;
  purpose: DispatchPurpose;
  messageId: string;
  /** Set for contacts with the debtor: the contact gate's caps count them. */
  debtorId: string | null;
  at: Date;
}

/**
 * A debtor's recent contacts as a JSON array of {at, channel}, with parameters: the emails and SMS
 * dispatched to the debtor since the lookback, not failed, and not the asking step's own (a
 * retried send is not a second contact); and the outbound calls, visits, chats and emails people
 * recorded on the debtor's cases since then (a posted letter is not counted, as the service's are not).
 */
const CONTACT_HISTORY = (debtor: string, since: string, step: string) =>
  `SELECT COALESCE(json_agg(json_build_object('at', h.at, 'channel', h.channel)), '[]'::json) FROM (
     SELECT x.created_at AS at, x.channel FROM dispatches x
     WHERE x.debtor_id = ${debtor} AND x.created_at > ${since} AND x.status <> 'failed' AND x.channel IN ('email', 'sms') AND x.step_id <> ${step}
     UNION ALL
     SELECT (t.data->>'startedAt')::timestamptz, t.data->>'channel' FROM cases c JOIN touches t ON t.case_id = c.id AND t.kind = 'contact.recorded'
     WHERE c.debtor_id = ${debtor} AND t.data->>'direction' = 'outbound' AND t.data->>'channel' <> 'letter' AND (t.data->>'startedAt')::timestamptz > ${since}
   ) h`;

/** The parameters $1–$9 of a dispatch insert, in column order. */
const dispatchRow = (dispatch: NewDispatch): unknown[] => [
  dispatch.id,
  dispatch.caseId,
  dispatch.stepId,
  dispatch.channel,
  dispatch.recipient,
  dispatchKey(dispatch.stepId, dispatch.purpose),
  dispatch.messageId,
  dispatch.at,
  dispatch.debtorId,
];

/** Rows of parameters as one array per column, for unnest. */
const columnsOf = (rows: readonly unknown[][]): unknown[][] => rows[0]!.map((_, column) => rows.map((row) => row[column]));

const toContacts = (contacts: { at: string; channel: PastContact['channel'] }[]): PastContact[] =>
  contacts.map((contact) => ({ at: new Date(contact.at), channel: contact.channel }));

/**
 * Dispatches: one row per outgoing message, written before the send under a unique dedupe key and
 * marked after it, so a job that runs twice sends once. The only writer of the table.
 */
@Injectable()
export class DispatchRepository extends SqlRepository {
  /**
   * The notice claim, in one statement: marks the step running (an attempt), writes its dispatch
   * row (or finds the one an earlier run wrote), and reads the debtor's contact history since
   * `historySince` for the gate's caps. The caller holds the debtor's contact lock, which is what
   * lets the statement read the dispatch keys first and then insert or bump (dispatches are
   * partitioned, so no ON CONFLICT on the dedupe key; a racing writer would hit the key table's
   * unique index and the job would retry). Concurrent
   * claims in one transaction are gathered into one statement, one debtor's in separate rounds so
   * that each sees the dispatches claimed before it.
   */
  claimNotice(tx: Tx, dispatch: NewDispatch & { debtorId: string }, historySince: Date): Promise<{ dispatch: ClaimedDispatch; contacts: PastContact[] }> {
    return this.claims.call(tx, { dispatch, historySince });
  }

  private readonly claims = new Gather<
    { dispatch: NewDispatch & { debtorId: string }; historySince: Date },
    { dispatch: ClaimedDispatch; contacts: PastContact[] }
  >(
    async (tx, claims) => {
      const rows = await this.rows<{
        id: string;
        status: DispatchStatus;
        previous: DispatchStatus | null;
        message_id: string;
        contacts: { at: string; channel: PastContact['channel'] }[];
      }>(
        tx,
        `WITH claim AS (
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::uuid[], $10::timestamptz[])
             WITH ORDINALITY AS claim(id, case_id, step_id, channel, recipient, dedupe_key, message_id, at, debtor_id, since, n)
         ), running AS (
           UPDATE scheduled_steps s SET status = 'running', attempts = s.attempts + 1, started_at = claim.at, updated_at = claim.at FROM claim WHERE s.id = claim.step_id
         ), known AS (
           SELECT k.dedupe_key, k.dispatch_id, k.created_at FROM dispatch_keys k JOIN claim ON claim.dedupe_key = k.dedupe_key
         ), previous AS (
           SELECT d.dedupe_key, d.status FROM dispatches d JOIN known ON known.dispatch_id = d.id AND known.created_at = d.created_at
         ), fresh AS (
           INSERT INTO dispatches (id, case_id, step_id, channel, recipient, dedupe_key, status, message_id, attempts, created_at, debtor_id)
           SELECT id, case_id, step_id, channel, recipient, dedupe_key, 'sending', message_id, 1, at, debtor_id FROM claim
           WHERE claim.dedupe_key NOT IN (SELECT dedupe_key FROM known)
           RETURNING id, status, message_id, dedupe_key
         ), again AS (
           UPDATE dispatches d SET attempts = d.attempts + 1, status = CASE WHEN d.status = 'sent' THEN 'sent' ELSE 'sending' END
           FROM known WHERE d.id = known.dispatch_id AND d.created_at = known.created_at
           RETURNING d.id, d.status, d.message_id, d.dedupe_key
         ), dispatch AS (
           SELECT * FROM fresh UNION ALL SELECT * FROM again
         )
         SELECT dispatch.id, dispatch.status, dispatch.message_id, previous.status AS previous,
           (${CONTACT_HISTORY('claim.debtor_id', 'claim.since', 'claim.step_id')}) AS contacts
         FROM claim JOIN dispatch ON dispatch.dedupe_key = claim.dedupe_key LEFT JOIN previous ON previous.dedupe_key = claim.dedupe_key
         ORDER BY claim.n`,
        [...columnsOf(claims.map((claim) => dispatchRow(claim.dispatch))), claims.map((claim) => claim.historySince)],
      );
      return rows.map((row) => ({
        dispatch: { id: row.id, status: row.status, previous: row.previous, messageId: row.message_id },
        contacts: toContacts(row.contacts),
      }));
    },
    (claim) => claim.dispatch.debtorId,
  );

  /** The debtor's contacts since `since`, other than the asking step's; the caller holds the debtor's contact lock. */
  async contactHistory(tx: Tx, debtorId: string, since: Date, stepId: string): Promise<PastContact[]> {
    const row = await this.row<{ contacts: { at: string; channel: PastContact['channel'] }[] }>(
      tx,
      `SELECT (${CONTACT_HISTORY('$1', '$2', '$3')}) AS contacts`,
      [debtorId, since, stepId],
    );
    return toContacts(row?.contacts ?? []);
  }

  /** Writes the dispatch of a letter's email, before it is sent (attempts count the sends). */
  async insert(tx: Tx, dispatch: NewDispatch): Promise<void> {
    await this.run(
      tx,
      `INSERT INTO dispatches (id, case_id, step_id, channel, recipient, dedupe_key, status, message_id, attempts, created_at, debtor_id)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, 0, $8, $9)`,
      dispatchRow(dispatch),
    );
  }

  /**
   * A letter's email is about to go out: counts the attempt and marks it `sending`. Returns the
   * status before, `sending` when a crash interrupted the last send.
   */
  async startSend(id: string): Promise<DispatchStatus | undefined> {
    const [row] = await this.changed<{ previous: DispatchStatus }>(
      undefined,
      `UPDATE dispatches d SET attempts = d.attempts + 1, status = 'sending' FROM (SELECT id, status FROM dispatches WHERE id = $1 FOR UPDATE) before
       WHERE d.id = before.id AND d.status <> 'sent' RETURNING before.status AS previous`,
      [id],
    );
    return row?.previous;
  }

  /** The provider accepted the message; false when the dispatch was already marked sent (a recording that committed unseen). */
  async markSent(tx: Tx, id: string, at: Date, providerMessageId: string | null = null): Promise<boolean> {
    const rows = await this.changed<{ id: string }>(
      tx,
      `UPDATE dispatches SET status = 'sent', sent_at = COALESCE(sent_at, $2), last_error = NULL, provider_message_id = COALESCE($3, provider_message_id)
       WHERE id = $1 AND status <> 'sent' RETURNING id`,
      [id, at, providerMessageId],
    );
    return rows.length > 0;
  }

  /** A send a crash interrupted, left for an operator: it may have gone out. */
  async markInDoubt(tx: Tx, id: string): Promise<void> {
    await this.run(tx, `UPDATE dispatches SET status = 'in_doubt' WHERE id = $1`, [id]);
  }

  /**
   * Notes a failed send on the step's unsent dispatch: `failed` for good, else `pending` for the
   * retry. Returns the dispatch, if the step wrote one.
   */
  async noteFailure(tx: Tx, stepId: string, error: string, final: boolean): Promise<{ id: string; attempts: number } | undefined> {
    const [row] = await this.changed<{ id: string; attempts: number }>(
      tx,
      `UPDATE dispatches SET status = $3, last_error = $2 WHERE step_id = $1 AND status NOT IN ('sent', 'in_doubt') RETURNING id, attempts`,
      [stepId, error, final ? 'failed' : 'pending'],
    );
    return row;
  }

  /** The case of an SMS dispatch, by its id (the provider's reference). */
  async caseOfSms(tx: Tx, id: string): Promise<string | undefined> {
    return (await this.row<{ case_id: string }>(tx, `SELECT case_id FROM dispatches WHERE id = $1 AND channel = 'sms'`, [id]))?.case_id;
  }

  /** The email dispatch a provider's report is about, by the Message-ID we sent (`<…>`). */
  async emailByMessageId(tx: Tx, messageId: string): Promise<{ id: string; caseId: string } | undefined> {
    return this.row(tx, `SELECT id, case_id AS "caseId" FROM dispatches WHERE message_id = $1 AND channel = 'email'`, [messageId]);
  }

  /**
   * Locks a dispatch (after its case) to apply a delivery report. `kind`: a step's notice, or a
   * letter's email (to the debtor or a guarantor).
   */
  lockDelivery(
    tx: Tx,
    id: string,
  ): Promise<{ caseId: string; stepId: string; recipient: string; kind: 'notice' | 'letter'; deliveryStatus: DeliveryStatus | null } | undefined> {
    return this.row(
      tx,
      `SELECT d.case_id AS "caseId", d.step_id AS "stepId", d.recipient, d.delivery_status AS "deliveryStatus",
         CASE WHEN EXISTS (SELECT 1 FROM letters l WHERE l.case_id = d.case_id AND l.email_dispatch_id = d.id) THEN 'letter' ELSE 'notice' END AS kind
       FROM dispatches d WHERE d.id = $1 FOR UPDATE OF d`,
      [id],
    );
  }

  async setDelivery(tx: Tx, id: string, status: DeliveryStatus, at: Date, providerMessageId: string | null): Promise<void> {
    await this.run(tx, `UPDATE dispatches SET delivery_status = $2, delivered_at = $3, provider_message_id = COALESCE($4, provider_message_id) WHERE id = $1`, [
      id,
      status,
      at,
      providerMessageId,
    ]);
  }
}
