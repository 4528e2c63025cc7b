import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { DateTime } from 'luxon';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService, INSERT_TOUCHES, touchColumns } from '../audit/audit.service';
import type { TouchInput } from '../audit/touch-kinds';
import { pickLocale, RenderedEmail, EmailTemplates } from '../channels/email/email-templates';
import { Mailer } from '../channels/email/mailer.service';
import { unsubscribeHeaders, unsubscribeLink } from '../channels/unsubscribe-link';
import { Clock } from '../common/clock';
import { formatMinorUnits } from '../common/money';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { updateReturning } from '../database/sql';
import type { PolicyStep } from '../policies/policy.schema';
import { DueStep, StepScheduler } from '../scheduling/step-scheduler.service';
import { lockCaseTerms } from '../letters/case-terms';
import { FeeAssessor } from '../letters/fee-assessor.service';
import { UndrawableText } from '../letters/letter-fields';
import { Issued, LetterService } from '../letters/letters.service';

export type StepOutcome =
  | 'sent'
  | 'issued'
  | 'assessed'
  | 'skipped'
  | 'cancelled'
  | 'held'
  | 'missing'
  | 'already-done'
  | 'already-skipped'
  | 'already-cancelled';

/** A step found early (its row moved later) goes back to the delayed set. */
export interface NotYetDue {
  notBefore: Date;
}

interface StepRow {
  id: string;
  case_id: string;
  step_index: number;
  status: string;
  due_at: Date;
  definition: PolicyStep;
  case_status: string;
  debtor_id: string;
  balance_minor: string;
  touch_seq: number;
  touch_hash: string;
  currency: string;
  debtor_name: string;
  unsubscribe_token: string;
  email: string | null;
  locale: string | null;
  timezone: string;
  invoice_ref: string;
  contract_ref: string | null;
  due_date: string | null;
  invoice_due_at: Date;
  requested_by: string | null;
}

/** A step the claim settled without sending; `next` is the case's next step to enqueue after commit. */
interface Settled {
  outcome: StepOutcome | NotYetDue;
  next?: DueStep;
  /** Letters issued in the settling transaction, to deliver by email after it commits. */
  letters?: Issued;
}

interface Claimed {
  step: StepRow;
  dispatch: { id: string; status: string; message_id: string };
  email: RenderedEmail;
  locale: string;
  contentHash: string;
}

const isClaimed = (value: Claimed | Settled): value is Claimed => 'dispatch' in value;

/** A subquery for the case's next pending step other than the given one, by parameter numbers. */
const nextPendingStep = (caseParam: string, stepParam: string) => `SELECT json_build_object('id', n.id, 'dueAt', n.due_at) FROM scheduled_steps n
  WHERE n.case_id = ${caseParam} AND n.status = 'pending' AND n.id <> ${stepParam} ORDER BY n.due_at, n.step_index LIMIT 1`;

/** The step with what acting on it needs, its row and its case's row locked. */
const SELECT_STEP = `SELECT s.id, s.case_id, s.step_index, s.status, s.due_at, s.definition, s.requested_by,
    c.status AS case_status, c.balance_minor, c.currency, c.touch_seq, c.touch_hash, c.debtor_id,
    d.name AS debtor_name, d.email, d.locale, d.timezone, d.unsubscribe_token,
    i.external_id AS invoice_ref, i.contract_ref, to_char(i.due_date, 'YYYY-MM-DD') AS due_date, i.due_at AS invoice_due_at
  FROM scheduled_steps s JOIN cases c ON c.id = s.case_id JOIN debtors d ON d.id = c.debtor_id JOIN invoices i ON i.id = c.invoice_id
  WHERE s.id = $1 FOR UPDATE OF s, c`;

/** Building a NumberFormat is costly; a handful of locale × currency pairs cover every notice. */
const currencyFormats = new Map<string, Intl.NumberFormat>();
function currencyFormat(locale: string, currency: string): Intl.NumberFormat {
  const key = `${locale}/${currency}`;
  let format = currencyFormats.get(key);
  if (!format) currencyFormats.set(key, (format = new Intl.NumberFormat(locale, { style: 'currency', currency })));
  return format;
}

const CLOSED_CASE = new Set(['resolved', 'cancelled', 'written_off', 'closed']);
/** Jobs may fire a little early (clock skew between hosts); beyond this they are re-delayed. */
const EARLY_TOLERANCE_MS = 1000;

/**
 * Runs one step: lock, guard, write the dispatch row, send, mark sent, record, plan next.
 * Safe to run twice: the dispatch row's unique key means a step is sent at most once.
 */
@Injectable()
export class StepRunner {
  private readonly logger = new Logger(StepRunner.name);
  private readonly messageDomain: string;
  private readonly creditor: string;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly templates: EmailTemplates,
    private readonly mailer: Mailer,
    private readonly scheduler: StepScheduler,
    private readonly clock: Clock,
    private readonly letters: LetterService,
    private readonly fees: FeeAssessor,
  ) {
    this.messageDomain = /@([^>\s]+)/.exec(config.MAIL_FROM)?.[1] ?? 'dunning.local';
    this.creditor = config.MAIL_FROM.replace(/\s*<.*>$/, '');
  }

  /**
   * `finalAttempt`: no retry follows a failure, so any failure (SMTP, database, template) is
   * recorded on the step, and as `notice.failed` for a notice, before the job fails for good.
   */
  async run(stepId: string, finalAttempt: boolean): Promise<StepOutcome | NotYetDue> {
    try {
      const claimed = await this.claim(stepId);
      if (!isClaimed(claimed)) {
        let next = claimed.next;
        if (claimed.letters) {
          await this.letters.deliverEmails(claimed.letters);
          next = await this.completeLetters(claimed.letters);
        }
        if (next) await this.scheduler.enqueue([next]);
        return claimed.outcome;
      }
      const { step, dispatch, email } = claimed;
      if (dispatch.status !== 'sent') {
        await this.mailer.send({
          to: step.email!,
          subject: email.subject,
          text: email.text,
          html: email.html,
          messageId: dispatch.message_id,
          headers: { 'X-Dunning-Case': step.case_id, 'X-Dunning-Dispatch': dispatch.id, ...unsubscribeHeaders(unsubscribeLink(this.config.PUBLIC_URL, step.unsubscribe_token)) },
        });
      }
      const next = await this.recordSent(claimed);
      if (next) await this.scheduler.enqueue([next]);
      return 'sent';
    } catch (error) {
      // A letter the fonts cannot draw fails the same way on every attempt: fail it now, visibly.
      const hopeless = error instanceof UndrawableText;
      await this.recordFailure(stepId, error as Error, finalAttempt || hopeless);
      throw hopeless ? new UnrecoverableError((error as Error).message) : error;
    }
  }

  /**
   * The common case in one statement: lock the step and its case, and if the step is due, pending
   * and an email notice for an active case, mark it running and write (or find) its dispatch row.
   * Anything else takes the guarded path in a transaction.
   */
  private async claim(stepId: string): Promise<Claimed | Settled> {
    const now = this.clock.now();
    const dispatchId = randomUUID();
    const [row]: (StepRow & { dispatch_id: string | null; dispatch_status: string; message_id: string })[] = await this.dataSource.query(
      `WITH target AS (${SELECT_STEP}),
       claimable AS (
         SELECT * FROM target WHERE status IN ('pending', 'running', 'failed') AND case_status = 'active' AND due_at <= $3
           AND definition->>'action' = 'notice' AND definition->>'channel' = 'email' AND email IS NOT NULL
       ),
       running AS (
         UPDATE scheduled_steps SET status = 'running', attempts = attempts + 1, started_at = $2, updated_at = $2 WHERE id IN (SELECT id FROM claimable)
       ),
       dispatch AS (
         -- The dispatch row is the send's dedupe key: a rerun finds it (and whether it was sent).
         INSERT INTO dispatches (id, case_id, step_id, channel, recipient, dedupe_key, status, message_id, attempts, created_at, debtor_id)
         SELECT $4::uuid, case_id, id, 'email', email, id || '/email/' || lower(email), 'pending', $5::text, 1, $2::timestamptz, debtor_id FROM claimable
         ON CONFLICT (dedupe_key) DO UPDATE SET attempts = dispatches.attempts + 1
         RETURNING id, status, message_id
       )
       SELECT target.*, dispatch.id AS dispatch_id, dispatch.status AS dispatch_status, dispatch.message_id FROM target LEFT JOIN dispatch ON true`,
      [stepId, now, new Date(now.getTime() + EARLY_TOLERANCE_MS), dispatchId, `<${dispatchId}@${this.messageDomain}>`],
    );
    if (!row?.dispatch_id) return this.dataSource.transaction((m) => this.settle(m, stepId));
    const { dispatch_id: id, dispatch_status: status, message_id, ...step } = row;
    const definition = step.definition as Extract<PolicyStep, { action: 'notice' }>;
    const locale = pickLocale(step.locale, this.config.DEFAULT_LOCALE);
    const currency = step.currency.trim();
    const amount = formatMinorUnits(BigInt(step.balance_minor), currency);
    const email = this.templates.render(definition.template, locale, {
      debtorName: step.debtor_name,
      invoiceRef: step.invoice_ref,
      contractRef: step.contract_ref,
      amount,
      currency,
      amountText: currencyFormat(locale, currency).format(amount as unknown as number),
      dueDate: this.dueDateText(step, locale),
      creditor: this.creditor,
      unsubscribeUrl: unsubscribeLink(this.config.PUBLIC_URL, step.unsubscribe_token),
    });
    const contentHash = createHash('sha256').update(email.subject).update('\n').update(email.text).update('\n').update(email.html).digest('hex');
    return { step, dispatch: { id, status, message_id }, email, locale, contentHash };
  }

  /** A step the fast path did not claim: find out why, record it, and settle the step. */
  private async settle(m: EntityManager, stepId: string): Promise<Settled> {
    const [step]: StepRow[] = await m.query(SELECT_STEP, [stepId]);
    if (!step) return { outcome: 'missing' };
    if (step.status === 'done' || step.status === 'skipped' || step.status === 'cancelled') return { outcome: `already-${step.status}` };
    const now = this.clock.now();
    if (CLOSED_CASE.has(step.case_status)) {
      await this.finish(m, step, 'cancelled', `case ${step.case_status}`);
      await this.audit.record(m, step.case_id, [{ kind: 'step.cancelled', actor: 'system', data: { stepId, index: step.step_index, reason: `case ${step.case_status}` } }]);
      return { outcome: 'cancelled' };
    }
    // Held: the row stays pending; releasing the hold enqueues it again.
    if (step.case_status === 'on_hold') return { outcome: 'held' };
    if (step.due_at.getTime() - now.getTime() > EARLY_TOLERANCE_MS) return { outcome: { notBefore: step.due_at } };

    const definition = step.definition;
    if (definition.action === 'letter' || definition.action === 'fee') return this.act(m, step, definition);
    const skipReason =
      definition.action !== 'notice'
        ? `action not available: ${definition.action}`
        : definition.channel !== 'email'
          ? `action not available: ${definition.channel} notices`
          : step.email
            ? null
            : 'debtor has no email address';
    // Every reason the fast path declines is handled above; reaching here means the row changed under us.
    if (!skipReason) throw new Error(`step ${stepId} became claimable while settling; the retry will claim it`);
    return this.skip(m, step, skipReason);
  }

  private async skip(m: EntityManager, step: StepRow, reason: string): Promise<Settled> {
    await this.finish(m, step, 'skipped', reason);
    await this.audit.record(m, step.case_id, [
      { kind: 'step.skipped', actor: 'system', data: { stepId: step.id, index: step.step_index, action: step.definition.action, reason } },
    ]);
    return { outcome: 'skipped', next: await this.nextStep(m, step.case_id, step.id) };
  }

  private async nextStep(m: EntityManager, caseId: string, stepId: string): Promise<DueStep | undefined> {
    const [{ next }] = await m.query(`SELECT (${nextPendingStep('$1', '$2')}) AS next`, [caseId, stepId]);
    return next ? { id: next.id, dueAt: new Date(next.dueAt) } : undefined;
  }

  /** Fee and letter steps, in the settling transaction that holds the case lock. */
  private async act(m: EntityManager, step: StepRow, definition: Extract<PolicyStep, { action: 'letter' | 'fee' }>): Promise<Settled> {
    const terms = (await lockCaseTerms(m, step.case_id))!;
    const actor = step.requested_by ?? 'system';
    if (definition.action === 'fee') {
      const assessed = await this.fees.assess(m, terms, step.id, actor);
      if ('skipped' in assessed) return this.skip(m, step, assessed.skipped);
      await this.finish(m, step, 'done', 'assessed');
      await this.audit.record(m, step.case_id, assessed.touches);
      return { outcome: 'assessed', next: await this.nextStep(m, step.case_id, step.id) };
    }
    await m.query(`UPDATE scheduled_steps SET status = 'running', attempts = attempts + 1, started_at = $2, updated_at = $2 WHERE id = $1`, [step.id, this.clock.now()]);
    const issued = await this.letters.issue(m, terms, step.id, definition, actor);
    if (issued.letters.length === 0) return this.skip(m, step, `no letter issued: ${issued.skipped.join('; ')}`);
    return { outcome: 'issued', letters: issued };
  }

  /** Marks a letter step done once its emails are out, returning the case's next step. */
  private async completeLetters(issued: Issued): Promise<DueStep | undefined> {
    const outcome = issued.skipped.length > 0 ? `issued; ${issued.skipped.join('; ')}` : 'issued';
    return this.dataSource.transaction(async (m) => {
      await m.query(
        `UPDATE scheduled_steps SET status = 'done', outcome = $2, finished_at = $3, updated_at = $3 WHERE id = $1 AND status <> 'done'`,
        [issued.stepId, outcome, this.clock.now()],
      );
      return this.nextStep(m, issued.caseId, issued.stepId);
    });
  }

  private dueDateText(step: StepRow, locale: string): string {
    if (step.due_date) return DateTime.fromISO(step.due_date).setLocale(locale).toLocaleString(DateTime.DATE_FULL);
    return DateTime.fromJSDate(step.invoice_due_at, { zone: step.timezone }).setLocale(locale).toLocaleString(DateTime.DATETIME_FULL);
  }

  /**
   * Marks the dispatch and step done and records `notice.sent`, returning the case's next step.
   * One statement when the case's audit head is still the one read at claim time (the usual
   * case); otherwise the same under the case lock.
   */
  private async recordSent(claimed: Claimed): Promise<DueStep | undefined> {
    const { step, dispatch } = claimed;
    const now = this.clock.now();
    const { rows, head } = this.audit.chain(step.case_id, step, [this.sentTouch(claimed)]);
    const [swapped] = await this.dataSource.query(
      `WITH head AS (
         UPDATE cases SET touch_seq = $11, touch_hash = $12 WHERE id = $10 AND touch_seq = $13 AND touch_hash = $14 RETURNING id
       ), appended AS (
         ${INSERT_TOUCHES} WHERE EXISTS (SELECT 1 FROM head)
       ), sent AS (
         UPDATE dispatches SET status = 'sent', sent_at = COALESCE(sent_at, $17), last_error = NULL WHERE id = $15 AND EXISTS (SELECT 1 FROM head)
       ), done AS (
         UPDATE scheduled_steps SET status = 'done', outcome = 'sent', finished_at = $17, updated_at = $17 WHERE id = $16 AND EXISTS (SELECT 1 FROM head)
       )
       SELECT (${nextPendingStep('$10', '$16')}) AS next FROM head`,
      [...touchColumns(rows), step.case_id, head.touch_seq, head.touch_hash, step.touch_seq, step.touch_hash, dispatch.id, step.id, now],
    );
    const next = swapped ? swapped.next : await this.dataSource.transaction((m) => this.recordSentLocked(m, claimed, now));
    return next ? { id: next.id, dueAt: new Date(next.dueAt) } : undefined;
  }

  private async recordSentLocked(m: EntityManager, claimed: Claimed, now: Date): Promise<{ id: string; dueAt: string } | null> {
    const { step, dispatch } = claimed;
    const [head] = await m.query(
      `WITH sent AS (
         UPDATE dispatches SET status = 'sent', sent_at = COALESCE(sent_at, $3), last_error = NULL WHERE id = $4
       ), done AS (
         UPDATE scheduled_steps SET status = 'done', outcome = 'sent', finished_at = $3, updated_at = $3 WHERE id = $2
       )
       SELECT touch_seq, touch_hash, (${nextPendingStep('$1', '$2')}) AS next FROM cases WHERE id = $1 FOR UPDATE`,
      [step.case_id, step.id, now, dispatch.id],
    );
    await this.audit.record(m, step.case_id, [this.sentTouch(claimed)], head);
    return head.next;
  }

  private sentTouch({ step, dispatch, email, locale, contentHash }: Claimed): TouchInput {
    const definition = step.definition as Extract<PolicyStep, { action: 'notice' }>;
    const currency = step.currency.trim();
    return {
      kind: 'notice.sent',
      actor: 'system',
      channel: 'email',
      data: {
        stepId: step.id,
        index: step.step_index,
        dispatchId: dispatch.id,
        messageId: dispatch.message_id,
        recipient: step.email,
        template: definition.template,
        templateKey: email.templateKey,
        templateVersion: email.version,
        locale,
        balance: formatMinorUnits(BigInt(step.balance_minor), currency),
        currency,
        contentHash,
        delivery: 'accepted',
      },
    };
  }

  /**
   * Notes a failed run on the step (and its dispatch, if one was written). On the final attempt the
   * step becomes `failed` and a notice records `notice.failed`, so no failure goes unrecorded.
   */
  private async recordFailure(stepId: string, error: Error, finalAttempt: boolean): Promise<void> {
    const message = error.message.slice(0, 500);
    // SMTP replies often quote the recipient; keep addresses out of the log.
    const logged = message.replace(/[^\s<>@]+@[^\s<>@]+/g, '[address]');
    this.logger.warn(`step ${stepId}: run failed${finalAttempt ? ' (final attempt)' : ', will retry'}: ${logged}`);
    try {
      await this.dataSource.transaction(async (m) => {
        const [step] = await m.query(
          `SELECT s.id, s.case_id, s.step_index, s.status, s.action FROM scheduled_steps s JOIN cases c ON c.id = s.case_id
           WHERE s.id = $1 FOR UPDATE OF s, c`,
          [stepId],
        );
        if (!step || ['done', 'skipped', 'cancelled'].includes(step.status)) return;
        const [dispatch] = await updateReturning<{ id: string; attempts: number }>(
          m,
          `UPDATE dispatches SET status = $3, last_error = $2 WHERE step_id = $1 AND status <> 'sent' RETURNING id, attempts`,
          [stepId, message, finalAttempt ? 'failed' : 'pending'],
        );
        await m.query(`UPDATE scheduled_steps SET last_error = $2 WHERE id = $1`, [stepId, message]);
        if (!finalAttempt) return;
        await this.finish(m, step, 'failed', dispatch ? 'send failed' : 'run failed');
        if (step.action === 'notice') {
          await this.audit.record(m, step.case_id, [
            { kind: 'notice.failed', actor: 'system', channel: 'email', data: { stepId, index: step.step_index, dispatchId: dispatch?.id ?? null, attempts: dispatch?.attempts ?? null, error: message } },
          ]);
        } else if (step.action === 'letter') {
          const letters = await updateReturning<{ id: string; number: string }>(
            m,
            `UPDATE letters SET email_status = 'failed' WHERE step_id = $1 AND email_status = 'pending' RETURNING id, number`,
            [stepId],
          );
          const undrawable = error instanceof UndrawableText ? { undrawable: error.characters } : {};
          await this.audit.record(m, step.case_id, [
            { kind: 'letter.failed', actor: 'system', channel: dispatch ? 'email' : null, data: { stepId, index: step.step_index, letters: letters, error: message, ...undrawable } },
          ]);
        }
      });
    } catch (recordError) {
      // The database may be what failed; the job's own failure stays visible in the queue.
      this.logger.error(`step ${stepId}: could not record the failure: ${(recordError as Error).message}`);
    }
  }

  private async finish(m: EntityManager, step: { id: string }, status: string, outcome: string): Promise<void> {
    await m.query(`UPDATE scheduled_steps SET status = $2, outcome = $3, finished_at = $4, updated_at = $4 WHERE id = $1`, [step.id, status, outcome, this.clock.now()]);
  }
}
