import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { CaseStandings } from '../../cases/case-standings.service';
import { messageDomain } from '../../channels/creditor';
import { type ClaimedDispatch, DispatchRepository } from '../../channels/dispatch.repository';
import { recordSent } from '../../channels/sent-but-unrecorded';
import { EmailAddressRepository } from '../../channels/email/email-address.repository';
import { Mailer } from '../../channels/email/mailer.service';
import { SmsSender } from '../../channels/sms/sms-sender';
import { unsubscribeHeaders, unsubscribeLink } from '../../channels/unsubscribe-link';
import { Clock } from '../../common/clock';
import { ContactGate, type GateSubject } from '../../compliance/contact-gate.service';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { OutcomeKeeper } from '../../database/outcome-keeper';
import { Transactions, type Tx } from '../../database/transactions';
import type { GateDecision } from '../../domain/contact-gate';
import { routeEmailNotice, smsNoticeDeclined } from '../../domain/delivery-status';
import { SKIP_REASONS } from '../../domain/statuses';
import type { DueStep } from '../../domain/step';
import { contactRefusal } from '../../domain/step-guard';
import { type RunnableStep, StepRepository } from '../../scheduling/step.repository';
import { type NoticeMessage, NoticeMessages, type NoticeStep } from '../notice-messages';
import { RecordedFailure, type Settled, type StepAction } from '../step-action';
import { StepSettlement } from '../step-settlement';

/** A cap blocked a claim already written: thrown to roll the claim back, then the step is deferred afresh. */
export class DeferAfterRollback extends Error {
  constructor(
    readonly channel: string,
    readonly decision: Extract<GateDecision, { allowed: false }>,
  ) {
    super('contact cap reached');
  }
}

/**
 * A notice by email or SMS. The claim writes (or finds) the dispatch row, the send's dedupe key,
 * under the debtor's contact lock; the message goes out after the claim commits, and the send is
 * recorded in one statement when nothing else wrote to the case meanwhile.
 */
@Injectable()
export class NoticeAction implements StepAction<'notice'> {
  private readonly messageDomain: string;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly gate: ContactGate,
    private readonly dispatches: DispatchRepository,
    private readonly steps: StepRepository,
    private readonly messages: NoticeMessages,
    private readonly standings: CaseStandings,
    private readonly settlement: StepSettlement,
    private readonly mailer: Mailer,
    private readonly sms: SmsSender,
    private readonly keeper: OutcomeKeeper,
    private readonly addresses: EmailAddressRepository,
  ) {
    this.messageDomain = messageDomain(config);
  }

  async act(tx: Tx, step: RunnableStep, planned: NoticeStep): Promise<Settled> {
    const refusal = contactRefusal(step.debtor);
    if (refusal) return this.settlement.skip(tx, step, refusal);
    const route = await this.route(tx, step, planned);
    if ('skip' in route) return this.settlement.skip(tx, step, route.skip);
    const { definition, rerouted } = route;
    const recipient = definition.channel === 'email' ? step.debtor.email : step.debtor.phone;
    if (!recipient) return this.settlement.skip(tx, step, definition.channel === 'email' ? SKIP_REASONS.noEmail : SKIP_REASONS.noPhone);
    const subject: GateSubject = {
      debtorId: step.debtor.id,
      stepId: step.id,
      timezone: step.debtor.timezone,
      country: step.debtor.country,
      channel: definition.channel,
    };
    // Hours and days need no history: a night-time step is deferred before anything is written.
    const calendar = this.gate.decide(subject, []);
    if (!calendar.allowed) return this.settlement.defer(tx, step, definition.channel, calendar);

    // The claim reads the history in the same statement (one round trip fewer on the common
    // path); when a cap blocks, the claim is rolled back and the step deferred afresh.
    const dispatchId = randomUUID();
    const { dispatch, contacts } = await this.dispatches.claimNotice(
      tx,
      {
        id: dispatchId,
        caseId: step.caseId,
        stepId: step.id,
        channel: definition.channel,
        recipient,
        purpose: { kind: 'notice', channel: definition.channel, recipient },
        messageId: `<${dispatchId}@${this.messageDomain}>`,
        debtorId: step.debtor.id,
        at: this.clock.now(),
      },
      this.gate.historySince(),
    );
    const decision = this.gate.decide(subject, contacts);
    if (!decision.allowed) throw new DeferAfterRollback(definition.channel, decision);
    // Once per dispatch: a rerun of the same step finds its dispatch and has said why already.
    if (rerouted && dispatch.previous === null) {
      await this.audit.record(tx, step.caseId, [
        {
          kind: 'step.rerouted',
          actor: 'system',
          channel: definition.channel,
          data: {
            stepId: step.id,
            index: step.index,
            action: 'notice',
            from: planned.channel,
            to: definition.channel,
            template: definition.template,
            reason: rerouted,
          },
        },
      ]);
    }
    // An SMS provider drops a resend with the same reference (the dispatch id): only email waits for an operator by default.
    const inDoubt = dispatch.previous === 'sending' ? (definition.inDoubt ?? (definition.channel === 'sms' ? 'resend' : 'hold')) : undefined;
    if (inDoubt) {
      await this.audit.record(tx, step.caseId, [this.messages.inDoubtTouch(step, definition, dispatch, inDoubt)]);
      if (inDoubt === 'hold') return this.holdInDoubt(tx, step, definition, dispatch);
    }
    const message = this.messages.render(step, definition, (await this.standings.ofCase(tx, step.caseId))!);
    return {
      outcome: 'sent',
      inDoubt,
      afterCommit: async () => ({ outcome: 'sent', next: await this.send(step, definition, dispatch, message, recipient) }),
    };
  }

  /**
   * The channel the notice goes by: the planned one, unless it is email to an address that bounced
   * for good or complained, or a channel the debtor declined: then the step's fallback (SMS) takes
   * it or the step is skipped.
   */
  private async route(tx: Tx, step: RunnableStep, planned: NoticeStep): Promise<{ definition: NoticeStep; rerouted?: string } | { skip: string }> {
    const { declinedChannels } = step.debtor;
    if (planned.channel === 'sms') {
      const declined = smsNoticeDeclined(declinedChannels);
      return declined ? { skip: declined } : { definition: planned };
    }
    if (!step.debtor.email) return { definition: planned };
    const route = routeEmailNotice(await this.addresses.statusOf(tx, step.debtor.email), planned.fallback, step.debtor.phone !== null, declinedChannels);
    if ('skip' in route) return route;
    if (route.by === 'email') return { definition: planned };
    return { definition: { ...planned, channel: 'sms', template: planned.fallbackTemplate ?? planned.template }, rerouted: route.reason };
  }

  /**
   * The last send was interrupted between its claim and its outcome (a crash): it may have gone
   * out. The step fails for good with the reason, for an operator to check the mail server's log;
   * retrying its job sends it again, with the same Message-ID.
   */
  private async holdInDoubt(tx: Tx, step: RunnableStep, definition: NoticeStep, dispatch: ClaimedDispatch): Promise<Settled> {
    await this.dispatches.markInDoubt(tx, dispatch.id);
    await this.steps.finish(tx, step.id, 'failed', 'in doubt', this.clock.now());
    const failure = new RecordedFailure(
      definition.channel === 'email'
        ? `notice in doubt: the send of ${dispatch.messageId} was interrupted and may have gone out; check the mail server's log, and retry this job to send it again with the same Message-ID`
        : `notice in doubt: the SMS with reference ${dispatch.id} was interrupted and may have gone out; check the SMS provider's records, and retry this job to send it again with the same reference`,
    );
    return { outcome: 'in-doubt', inDoubt: 'hold', afterCommit: () => Promise.reject(failure) };
  }

  /** Sends unless an earlier run already did, then records the send; returns the case's next step. */
  private async send(step: RunnableStep, definition: NoticeStep, dispatch: ClaimedDispatch, notice: NoticeMessage, to: string): Promise<DueStep | undefined> {
    let providerMessageId: string | null = null;
    const { message } = notice;
    if (dispatch.status !== 'sent' && message.channel === 'email') {
      await this.mailer.send({
        to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: dispatch.messageId,
        headers: {
          'X-Dunning-Case': step.caseId,
          'X-Dunning-Dispatch': dispatch.id,
          ...unsubscribeHeaders(unsubscribeLink(this.config.PUBLIC_URL, step.debtor.unsubscribeToken)),
        },
      });
    } else if (dispatch.status !== 'sent') {
      // The dispatch id is the provider's dedupe reference: a resend after a crash is not a second SMS.
      ({ providerMessageId } = await this.sms.send({ to, text: message.text, reference: dispatch.id }));
    }
    const touch = this.messages.sentTouch(step, definition, dispatch, notice);
    const sent = { dispatchId: dispatch.id, stepId: step.id, at: this.clock.now(), providerMessageId };
    // The message is out: its record must not be lost to a database restart (a retry would send again).
    return recordSent(dispatch, () =>
      this.keeper.keep(`step ${step.id}: the send's record`, async () => {
        // One statement when the case's audit head is still the one read at claim time (the usual
        // case); otherwise the same under the case lock.
        const swapped = await this.audit.recordIfHeadUnchanged(step.caseId, step.case.head, [touch], sent);
        if (swapped) return swapped.next;
        return this.transactions.run(async (tx) => {
          const head = await this.audit.lockHead(tx, step.caseId);
          // Already marked: an earlier try committed, and only its answer was lost.
          if (await this.dispatches.markSent(tx, dispatch.id, sent.at, providerMessageId)) {
            await this.steps.finish(tx, step.id, 'done', 'sent', sent.at);
            await this.audit.record(tx, step.caseId, [touch], head);
          }
          return this.steps.nextWaiting(tx, step.caseId, step.id);
        });
      }),
    );
  }
}
