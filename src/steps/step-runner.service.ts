import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { DateTime } from 'luxon';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService, INSERT_TOUCHES, touchColumns } from '../audit/audit.service';
import type { TouchInput } from '../domain/touch-kinds';
import { pickLocale, RenderedEmail, EmailTemplates } from '../channels/email/email-templates';
import { Mailer } from '../channels/email/mailer.service';
import { SmsSender } from '../channels/sms/sms-sender';
import { type RenderedSms, SmsTemplates } from '../channels/sms/sms-templates';
import { unsubscribeHeaders, unsubscribeLink } from '../channels/unsubscribe-link';
import { Clock } from '../common/clock';
import { formatMinorUnits } from '../domain/money';
import type { GateDecision } from '../domain/contact-gate';
import { CONTACT_HISTORY, ContactGate } from '../compliance/contact-gate.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { updateReturning } from '../database/sql';
import type { PolicyStep } from '../domain/policy';
import { DueStep, StepScheduler } from '../scheduling/step-scheduler.service';
import { type QueueEffects } from '../cases/case-holds.service';
import { CaseLifecycle } from '../cases/case-lifecycle.service';
import { EscalationService } from '../escalations/escalation.service';
import { type CaseTerms, lockCaseTerms, terminateContract } from '../letters/case-terms';
import { FeeAssessor } from '../letters/fee-assessor.service';
import { UndrawableText } from '../domain/letter-fields';
import { Issued, LetterService } from '../letters/letters.service';
import type { StepRunFacts } from '../metrics/step-metrics';

export type StepOutcome =
  | 'sent'
  | 'issued'
  | 'assessed'
  | 'escalated'
  | 'terminated'
  | 'written-off'
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
  phone: string | null;
  country: string | null;
  cease_contact: boolean;
  deceased: boolean;
  bankrupt: boolean;
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
  /** Step jobs to withdraw after commit (a case that closed). */
  withdraw?: string[];
  /** Work that must follow the commit (an escalation's webhook). */
  afterCommit?: () => Promise<void>;
}

interface Claimed {
  step: StepRow;
  dispatch: { id: string; status: string; message_id: string };
  message: ({ channel: 'email' } & RenderedEmail) | ({ channel: 'sms' } & RenderedSms);
  locale: string;
  contentHash: string;
}

const isClaimed = (value: Claimed | Settled): value is Claimed => 'dispatch' in value;

/** A cap blocked a claim already written: thrown to roll it back, then the step is deferred. */
class CapReached extends Error {
  constructor(readonly decision: Extract<GateDecision, { allowed: false }>) {
    super('contact cap reached');
  }
}

/** A subquery for the case's next pending step other than the given one, by parameter numbers. */
const nextPendingStep = (caseParam: string, stepParam: string) => `SELECT json_build_object('id', n.id, 'dueAt', n.due_at) FROM scheduled_steps n
  WHERE n.case_id = ${caseParam} AND n.status IN ('pending', 'deferred') AND n.id <> ${stepParam} ORDER BY n.due_at, n.step_index LIMIT 1`;

/**
 * The step with what acting on it needs, its row and its case's row locked, and the debtor's
 * contact lock taken (the gate's: see ContactGate.check) before the history is read.
 */
const SELECT_STEP = `SELECT pg_advisory_xact_lock(hashtextextended('contact:' || c.debtor_id, 0))::text AS contact_lock, s.id, s.case_id, s.step_index, s.status, s.due_at, s.definition, s.requested_by,
    c.status AS case_status, c.balance_minor, c.currency, c.touch_seq, c.touch_hash, c.debtor_id,
    d.name AS debtor_name, d.email, d.phone, d.locale, d.timezone, d.unsubscribe_token, d.cease_contact, d.deceased, d.bankrupt,
    CASE WHEN upper(d.address->>'country') ~ '^[A-Z]{2}$' THEN upper(d.address->>'country') END AS country,
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
    private readonly gate: ContactGate,
    private readonly smsTemplates: SmsTemplates,
    private readonly sms: SmsSender,
    private readonly escalations: EscalationService,
    private readonly lifecycle: CaseLifecycle,
  ) {
    this.messageDomain = /@([^>\s]+)/.exec(config.MAIL_FROM)?.[1] ?? 'dunning.local';
    this.creditor = config.MAIL_FROM.replace(/\s*<.*>$/, '');
  }

  /**
   * `finalAttempt`: no retry follows a failure, so any failure (SMTP, database, template) is
   * recorded on the step, and as `notice.failed` for a notice, before the job fails for good.
   * `facts` is filled in with what the claim read, for the worker's metrics.
   */
  async run(stepId: string, finalAttempt: boolean, facts: StepRunFacts = {}): Promise<StepOutcome | NotYetDue> {
    try {
      const claimed = await this.claim(stepId, facts);
      if (!isClaimed(claimed)) {
        let next = claimed.next;
        if (claimed.letters) {
          facts.letters = claimed.letters.letters;
          await this.letters.deliverEmails(claimed.letters);
          next = await this.completeLetters(claimed.letters);
        }
        if (next) await this.scheduler.enqueue([next]);
        if (claimed.withdraw) await this.scheduler.withdraw(claimed.withdraw);
        await claimed.afterCommit?.();
        return claimed.outcome;
      }
      const { step, dispatch, message } = claimed;
      let providerMessageId: string | null = null;
      if (dispatch.status !== 'sent' && message.channel === 'email') {
        await this.mailer.send({
          to: step.email!,
          subject: message.subject,
          text: message.text,
          html: message.html,
          messageId: dispatch.message_id,
          headers: {
            'X-Dunning-Case': step.case_id,
            'X-Dunning-Dispatch': dispatch.id,
            ...unsubscribeHeaders(unsubscribeLink(this.config.PUBLIC_URL, step.unsubscribe_token)),
          },
        });
      } else if (dispatch.status !== 'sent') {
        // The dispatch id is the provider's dedupe reference: a resend after a crash is not a second SMS.
        ({ providerMessageId } = await this.sms.send({ to: step.phone!, text: message.text, reference: dispatch.id }));
      }
      const next = await this.recordSent(claimed, providerMessageId);
      if (next) await this.scheduler.enqueue([next]);
      return 'sent';
    } catch (error) {
      // A letter the fonts cannot draw, or a message the provider refuses for good (a 4xx), fails
      // the same way on every attempt: fail it now, visibly.
      const undrawable = error instanceof UndrawableText;
      await this.recordFailure(stepId, error as Error, finalAttempt || undrawable || error instanceof UnrecoverableError);
      throw undrawable ? new UnrecoverableError((error as Error).message) : error;
    }
  }

  /**
   * Locks the step and its case and decides: settle it (closed case, hold, not yet due, nothing to
   * send), act on it (letter, fee, escalation…), defer it (the contact gate says not now), or claim
   * it: mark it running and write (or find) its dispatch row, the send's dedupe key.
   */
  private claim(stepId: string, facts: StepRunFacts): Promise<Claimed | Settled> {
    return this.dataSource
      .transaction(async (m): Promise<Claimed | Settled> => {
        const [step]: StepRow[] = await m.query(SELECT_STEP, [stepId]);
        if (!step) return { outcome: 'missing' };
        facts.action = step.definition.action;
        if (step.definition.action === 'notice') facts.channel = step.definition.channel;
        if (step.status === 'done' || step.status === 'skipped' || step.status === 'cancelled') return { outcome: `already-${step.status}` };
        const now = this.clock.now();
        facts.dueAt = step.due_at;
        facts.startedAt = now;
        if (CLOSED_CASE.has(step.case_status)) {
          await this.finish(m, step, 'cancelled', `case ${step.case_status}`);
          await this.audit.record(m, step.case_id, [
            { kind: 'step.cancelled', actor: 'system', data: { stepId, index: step.step_index, reason: `case ${step.case_status}` } },
          ]);
          return { outcome: 'cancelled' };
        }
        // Held: the row waits; releasing the hold enqueues it again.
        if (step.case_status === 'on_hold') return { outcome: 'held' };
        if (step.due_at.getTime() - now.getTime() > EARLY_TOLERANCE_MS) return { outcome: { notBefore: step.due_at } };

        const definition = step.definition;
        if (definition.action !== 'notice') return this.act(m, step, definition);
        const recipient = definition.channel === 'email' ? step.email : step.phone;
        const refusal = this.refusal(step) ?? (recipient ? null : `debtor has no ${definition.channel === 'email' ? 'email address' : 'phone number'}`);
        if (refusal) return this.skip(m, step, refusal);
        const subject = { debtorId: step.debtor_id, stepId, timezone: step.timezone, country: step.country, channel: definition.channel };
        // Hours and days need no history: a night-time step is deferred before anything is written.
        const calendar = this.gate.decide(subject, []);
        if (!calendar.allowed) return this.defer(m, step, definition.channel, calendar);

        // The claim reads the history in the same statement (one round trip fewer on the common
        // path); when a cap blocks, the claim is rolled back and the step deferred afresh.
        const dispatchId = randomUUID();
        const [claim]: (Claimed['dispatch'] & { contacts: { at: string; channel: 'email' | 'sms' }[] })[] = await m.query(
          `WITH running AS (
           UPDATE scheduled_steps SET status = 'running', attempts = attempts + 1, started_at = $8, updated_at = $8 WHERE id = $3
         ), dispatch AS (
           INSERT INTO dispatches (id, case_id, step_id, channel, recipient, dedupe_key, status, message_id, attempts, created_at, debtor_id)
           VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, 1, $8, $9)
           ON CONFLICT (dedupe_key) DO UPDATE SET attempts = dispatches.attempts + 1
           RETURNING id, status, message_id
         )
         SELECT dispatch.*, (${CONTACT_HISTORY('$9', '$10', '$3')}) AS contacts FROM dispatch`,
          [
            dispatchId,
            step.case_id,
            stepId,
            definition.channel,
            recipient,
            `${stepId}/${definition.channel}/${recipient!.toLowerCase()}`,
            `<${dispatchId}@${this.messageDomain}>`,
            now,
            step.debtor_id,
            this.gate.historySince(),
          ],
        );
        const decision = this.gate.decide(subject, claim.contacts);
        if (!decision.allowed) throw new CapReached(decision);
        const { contacts: _contacts, ...dispatch } = claim;
        return { step, dispatch, ...this.render(step, definition) };
      })
      .catch((error: unknown) => {
        if (!(error instanceof CapReached)) throw error;
        return this.dataSource.transaction(async (m) => {
          const [step]: StepRow[] = await m.query(SELECT_STEP, [stepId]);
          return step.status === 'pending' || step.status === 'deferred' || step.status === 'failed' || step.status === 'running'
            ? this.defer(m, step, (step.definition as Extract<PolicyStep, { action: 'notice' }>).channel, error.decision)
            : { outcome: `already-${step.status}` as StepOutcome };
        });
      });
  }

  /** Why a notice may not go to this debtor at all: they asked us to stop, died, or are insolvent. */
  private refusal(step: StepRow): string | null {
    if (step.cease_contact) return 'debtor asked to cease contact';
    if (step.deceased) return 'debtor reported deceased';
    if (step.bankrupt) return 'debtor bankrupt';
    return null;
  }

  /** The gate said not now: the step waits for the next allowed moment, on the record. */
  private async defer(m: EntityManager, step: StepRow, channel: string, decision: Extract<GateDecision, { allowed: false }>): Promise<Settled> {
    await m.query(`UPDATE scheduled_steps SET status = 'deferred', due_at = $2, updated_at = $3 WHERE id = $1`, [
      step.id,
      decision.notBefore,
      this.clock.now(),
    ]);
    await this.audit.record(m, step.case_id, [
      {
        kind: 'step.deferred',
        actor: 'system',
        channel,
        data: {
          stepId: step.id,
          index: step.step_index,
          until: decision.notBefore.toISOString(),
          reasons: decision.blocks.map((block) => block.reason),
          blocks: decision.blocks,
        },
      },
    ]);
    return { outcome: { notBefore: decision.notBefore } };
  }

  private render(step: StepRow, definition: Extract<PolicyStep, { action: 'notice' }>): Pick<Claimed, 'message' | 'locale' | 'contentHash'> {
    const locale = pickLocale(step.locale, this.config.DEFAULT_LOCALE);
    const currency = step.currency.trim();
    const amount = formatMinorUnits(BigInt(step.balance_minor), currency);
    const variables = {
      debtorName: step.debtor_name,
      invoiceRef: step.invoice_ref,
      contractRef: step.contract_ref,
      amount,
      currency,
      amountText: currencyFormat(locale, currency).format(amount as unknown as number),
      dueDate: this.dueDateText(step, locale),
      creditor: this.creditor,
      unsubscribeUrl: unsubscribeLink(this.config.PUBLIC_URL, step.unsubscribe_token),
    };
    if (definition.channel === 'sms') {
      const sms = this.smsTemplates.render(definition.template, locale, variables);
      return { message: { channel: 'sms', ...sms }, locale, contentHash: createHash('sha256').update(sms.text).digest('hex') };
    }
    const email = this.templates.render(definition.template, locale, variables);
    const contentHash = createHash('sha256').update(email.subject).update('\n').update(email.text).update('\n').update(email.html).digest('hex');
    return { message: { channel: 'email', ...email }, locale, contentHash };
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

  /** Every step but a notice, in the claiming transaction that holds the case lock. */
  private async act(m: EntityManager, step: StepRow, definition: Exclude<PolicyStep, { action: 'notice' }>): Promise<Settled> {
    const terms = (await lockCaseTerms(m, step.case_id))!;
    const actor = step.requested_by ?? 'system';
    const now = this.clock.now();
    switch (definition.action) {
      case 'fee': {
        const assessed = await this.fees.assess(m, terms, step.id, actor);
        if ('skipped' in assessed) return this.skip(m, step, assessed.skipped);
        return this.done(m, step, 'assessed', assessed.touches);
      }
      case 'escalate': {
        const escalation = await this.escalations.escalate(m, step.case_id, definition.to, actor, {
          stepId: step.id,
          reason: `policy step ${step.step_index}`,
        });
        return { ...(await this.done(m, step, 'escalated', escalation.touches)), afterCommit: escalation.afterCommit };
      }
      case 'terminate-contract':
        return this.done(m, step, 'terminated', await terminateContract(m, terms, actor, now, { stepId: step.id }));
      case 'write-off': {
        const effects: QueueEffects = { enqueue: [], withdraw: [] };
        await this.finish(m, step, 'done', 'written off');
        const closing = await this.lifecycle.close(m, step.case_id, 'written_off', 'case written off', actor, effects);
        const money = (minor: string) => formatMinorUnits(BigInt(minor), terms.currency);
        await this.audit.record(m, step.case_id, [
          ...closing,
          {
            kind: 'case.written_off',
            actor,
            data: { stepId: step.id, balance: money(terms.balance_minor), fees: money(terms.fees_minor), currency: terms.currency },
          },
        ]);
        return { outcome: 'written-off', withdraw: effects.withdraw };
      }
      case 'letter':
        return this.issueLetters(m, step, terms, definition, actor);
    }
  }

  /**
   * A letter step. Letters are legally required notices, so a debtor who asked to cease contact
   * still gets them, by post only. Emailing the debtor passes the contact gate first.
   */
  private async issueLetters(
    m: EntityManager,
    step: StepRow,
    terms: CaseTerms,
    definition: Extract<PolicyStep, { action: 'letter' }>,
    actor: string,
  ): Promise<Settled> {
    const toDebtor = definition.letter !== 'guarantor-notice';
    const deliver = toDebtor && step.cease_contact ? definition.deliver.filter((channel) => channel !== 'email') : definition.deliver;
    if (deliver.length === 0) return this.skip(m, step, 'debtor asked to cease contact; this letter goes by email only');
    if (deliver.includes('email')) {
      // The debtor's emails count against the debtor's caps; guarantors keep to the same hours
      // and days (we know no zone of theirs) but are not the debtor's contacts.
      const subject = { debtorId: step.debtor_id, stepId: step.id, timezone: step.timezone, country: step.country, channel: 'email' as const };
      const decision = toDebtor ? (step.email ? await this.gate.check(m, subject) : { allowed: true as const }) : this.gate.decide(subject, []);
      if (!decision.allowed) return this.defer(m, step, 'email', decision);
    }
    await m.query(`UPDATE scheduled_steps SET status = 'running', attempts = attempts + 1, started_at = $2, updated_at = $2 WHERE id = $1`, [
      step.id,
      this.clock.now(),
    ]);
    const issued = await this.letters.issue(m, terms, step.id, { ...definition, deliver }, actor);
    if (issued.letters.length === 0) return this.skip(m, step, `no letter issued: ${issued.skipped.join('; ')}`);
    return { outcome: 'issued', letters: issued };
  }

  private async done(m: EntityManager, step: StepRow, outcome: 'assessed' | 'escalated' | 'terminated', touches: TouchInput[]): Promise<Settled> {
    await this.finish(m, step, 'done', outcome);
    await this.audit.record(m, step.case_id, touches);
    return { outcome, next: await this.nextStep(m, step.case_id, step.id) };
  }

  /** Marks a letter step done once its emails are out, returning the case's next step. */
  private async completeLetters(issued: Issued): Promise<DueStep | undefined> {
    const outcome = issued.skipped.length > 0 ? `issued; ${issued.skipped.join('; ')}` : 'issued';
    return this.dataSource.transaction(async (m) => {
      await m.query(`UPDATE scheduled_steps SET status = 'done', outcome = $2, finished_at = $3, updated_at = $3 WHERE id = $1 AND status <> 'done'`, [
        issued.stepId,
        outcome,
        this.clock.now(),
      ]);
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
  private async recordSent(claimed: Claimed, providerMessageId: string | null): Promise<DueStep | undefined> {
    const { step, dispatch } = claimed;
    const now = this.clock.now();
    const { rows, head } = this.audit.chain(step.case_id, step, [this.sentTouch(claimed)]);
    const [swapped] = await this.dataSource.query(
      `WITH head AS (
         UPDATE cases SET touch_seq = $11, touch_hash = $12 WHERE id = $10 AND touch_seq = $13 AND touch_hash = $14 RETURNING id
       ), appended AS (
         ${INSERT_TOUCHES} WHERE EXISTS (SELECT 1 FROM head)
       ), sent AS (
         UPDATE dispatches SET status = 'sent', sent_at = COALESCE(sent_at, $17), last_error = NULL, provider_message_id = COALESCE($18, provider_message_id)
         WHERE id = $15 AND EXISTS (SELECT 1 FROM head)
       ), done AS (
         UPDATE scheduled_steps SET status = 'done', outcome = 'sent', finished_at = $17, updated_at = $17 WHERE id = $16 AND EXISTS (SELECT 1 FROM head)
       )
       SELECT (${nextPendingStep('$10', '$16')}) AS next FROM head`,
      [...touchColumns(rows), step.case_id, head.touch_seq, head.touch_hash, step.touch_seq, step.touch_hash, dispatch.id, step.id, now, providerMessageId],
    );
    const next = swapped ? swapped.next : await this.dataSource.transaction((m) => this.recordSentLocked(m, claimed, now, providerMessageId));
    return next ? { id: next.id, dueAt: new Date(next.dueAt) } : undefined;
  }

  private async recordSentLocked(
    m: EntityManager,
    claimed: Claimed,
    now: Date,
    providerMessageId: string | null,
  ): Promise<{ id: string; dueAt: string } | null> {
    const { step, dispatch } = claimed;
    const [head] = await m.query(
      `WITH sent AS (
         UPDATE dispatches SET status = 'sent', sent_at = COALESCE(sent_at, $3), last_error = NULL, provider_message_id = COALESCE($5, provider_message_id) WHERE id = $4
       ), done AS (
         UPDATE scheduled_steps SET status = 'done', outcome = 'sent', finished_at = $3, updated_at = $3 WHERE id = $2
       )
       SELECT touch_seq, touch_hash, (${nextPendingStep('$1', '$2')}) AS next FROM cases WHERE id = $1 FOR UPDATE`,
      [step.case_id, step.id, now, dispatch.id, providerMessageId],
    );
    await this.audit.record(m, step.case_id, [this.sentTouch(claimed)], head);
    return head.next;
  }

  private sentTouch({ step, dispatch, message, locale, contentHash }: Claimed): TouchInput {
    const definition = step.definition as Extract<PolicyStep, { action: 'notice' }>;
    const currency = step.currency.trim();
    return {
      kind: 'notice.sent',
      actor: 'system',
      channel: message.channel,
      data: {
        stepId: step.id,
        index: step.step_index,
        dispatchId: dispatch.id,
        ...(message.channel === 'email' ? { messageId: dispatch.message_id, recipient: step.email } : { reference: dispatch.id, recipient: step.phone }),
        template: definition.template,
        templateKey: message.templateKey,
        templateVersion: message.version,
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
          `SELECT s.id, s.case_id, s.step_index, s.status, s.action, s.definition->>'channel' AS channel FROM scheduled_steps s JOIN cases c ON c.id = s.case_id
           WHERE s.id = $1 FOR UPDATE OF s, c`,
          [stepId],
        );
        if (!step || ['done', 'skipped', 'cancelled'].includes(step.status)) return;
        const [dispatch] = await updateReturning<{ id: string; attempts: number }>(
          m,
          `UPDATE dispatches SET status = $3, last_error = $2 WHERE step_id = $1 AND status <> 'sent' RETURNING id, attempts`,
          [stepId, message, finalAttempt ? 'failed' : 'pending'],
        );
        // A run whose claim rolled back (a render or database failure) left no attempt behind: count it here.
        await m.query(`UPDATE scheduled_steps SET last_error = $2, attempts = attempts + CASE WHEN status = 'running' THEN 0 ELSE 1 END WHERE id = $1`, [
          stepId,
          message,
        ]);
        if (!finalAttempt) return;
        await this.finish(m, step, 'failed', dispatch ? 'send failed' : 'run failed');
        if (step.action === 'notice') {
          await this.audit.record(m, step.case_id, [
            {
              kind: 'notice.failed',
              actor: 'system',
              channel: step.channel,
              data: { stepId, index: step.step_index, dispatchId: dispatch?.id ?? null, attempts: dispatch?.attempts ?? null, error: message },
            },
          ]);
        } else if (step.action === 'letter') {
          const letters = await updateReturning<{ id: string; number: string }>(
            m,
            `UPDATE letters SET email_status = 'failed' WHERE step_id = $1 AND email_status = 'pending' RETURNING id, number`,
            [stepId],
          );
          const undrawable = error instanceof UndrawableText ? { undrawable: error.characters } : {};
          await this.audit.record(m, step.case_id, [
            {
              kind: 'letter.failed',
              actor: 'system',
              channel: dispatch ? 'email' : null,
              data: { stepId, index: step.step_index, letters: letters, error: message, ...undrawable },
            },
          ]);
        }
      });
    } catch (recordError) {
      // The database may be what failed; the job's own failure stays visible in the queue.
      this.logger.error(`step ${stepId}: could not record the failure: ${(recordError as Error).message}`);
    }
  }

  private async finish(m: EntityManager, step: { id: string }, status: string, outcome: string): Promise<void> {
    await m.query(`UPDATE scheduled_steps SET status = $2, outcome = $3, finished_at = $4, updated_at = $4 WHERE id = $1`, [
      step.id,
      status,
      outcome,
      this.clock.now(),
    ]);
  }
}
