import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { CaseCommands } from '../cases/case-commands.service';
import { CaseRepository } from '../cases/case.repository';
import { Commitments } from '../cases/commitments.service';
import { paymentRoute } from '../channels/creditor';
import { pickLocale } from '../channels/email/email-templates';
import { checkSelfServiceFormToken, selfServiceFormToken, verifySelfServiceToken } from '../channels/self-service-link';
import { unsubscribeLink } from '../channels/unsubscribe-link';
import { Clock } from '../common/clock';
import { DomainError, NotFound } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Transactions, type Tx } from '../database/transactions';
import { caseAccount } from '../domain/account';
import type { Instalment } from '../domain/commitments';
import type { NoticeChannel } from '../domain/delivery-status';
import { calendarDueDate, localDate } from '../domain/calendar';
import { formatDate, formatMoney } from '../domain/formats';
import { formatMinorUnits } from '../domain/money';
import {
  latestPlanStart,
  latestPromiseDate,
  monthlyInstalments,
  planOutOfBounds,
  promiseOutOfBounds,
  type SelfServiceBounds,
  selfServiceBounds,
} from '../domain/self-service';
import { isOpen } from '../domain/statuses';
import type { TouchInput } from '../domain/touch-kinds';
import { EscalationService } from '../escalations/escalation.service';
import type { SelfServiceView } from './self-service-page';
import { type DebtorLetter, SelfServiceRepository } from './self-service.repository';

/** A plan from the page: agreed at once, or proposed to a collector. */
export interface PlanOutcome {
  outcome: 'agreed' | 'proposed';
  planId?: string;
  instalments: Instalment[];
}

/** Every change the page makes is the debtor's own, on the record as such. */
export const DEBTOR = 'debtor';
const SOURCE = 'self-service';

/** An opened link: the case it names and when it was issued (the touches say which link acted). */
export interface OpenedLink {
  token: string;
  caseId: string;
  issuedAt: Date;
}

/**
 * The debtor's page behind a signed link: what it shows and what its forms do. Each action goes
 * through the same services an operator's does (a promise, a plan, a hold), with the actor
 * `debtor`, so the case, the API and the audit trail show it the same way.
 */
@Injectable()
export class SelfService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly cases: CaseRepository,
    private readonly commands: CaseCommands,
    private readonly commitments: Commitments,
    private readonly escalations: EscalationService,
    private readonly debtors: SelfServiceRepository,
  ) {}

  /** The link's case, or undefined for any link not ours, altered, expired or revoked: the visitor learns only that. */
  async open(token: string): Promise<OpenedLink | undefined> {
    const secret = this.config.SELF_SERVICE_SECRET;
    if (!secret) return undefined;
    const check = verifySelfServiceToken(secret, token, this.clock.now(), this.config.SELF_SERVICE_LINK_TTL);
    if (!check.ok) return undefined;
    const state = await this.debtors.linkState(check.caseId);
    if (!state || (state.revokedAt && check.issuedAt <= state.revokedAt)) return undefined;
    return { token, caseId: check.caseId, issuedAt: check.issuedAt };
  }

  /**
   * Refuses every link of the case issued until now (a message made later carries a new one):
   * for a link that reached the wrong person, or a debtor who asks. A touch says who and why.
   */
  async revokeLinks(caseId: string, reason: string, actor: string): Promise<{ caseId: string; revokedAt: string }> {
    if (!(await this.cases.exists(caseId))) throw new NotFound('case', caseId);
    const revokedAt = this.clock.now();
    await this.transactions.run(async (tx) => {
      await this.debtors.revoke(tx, caseId, revokedAt);
      await this.audit.record(tx, caseId, [{ kind: 'self-service.link_revoked', actor, data: { revokedAt: revokedAt.toISOString(), reason } }]);
    });
    return { caseId, revokedAt: revokedAt.toISOString() };
  }

  /** A letter of the link's case to its debtor, as issued; any other letter is not found. */
  async letter(link: OpenedLink, letterId: string): Promise<DebtorLetter> {
    const letter = await this.debtors.debtorLetter(link.caseId, letterId);
    if (!letter) throw new NotFound('letter', letterId);
    return letter;
  }

  /** A letter was opened through the link: on the trail by its number and hash. */
  async letterViewed(link: OpenedLink, letter: DebtorLetter): Promise<void> {
    const touch: TouchInput = { kind: 'self-service.viewed', actor: DEBTOR, data: { ...linkData(link), letter: letter.number, sha256: letter.sha256 } };
    await this.transactions.run((tx) => this.audit.record(tx, link.caseId, [touch]));
  }

  private async bounds(tx: Tx | undefined, caseId: string): Promise<SelfServiceBounds> {
    return selfServiceBounds(await this.cases.policyBlock(tx, caseId, 'selfService'));
  }

  /** The page's figures, from the case's record as the API reads it. */
  async view(link: OpenedLink, message?: SelfServiceView['message']): Promise<SelfServiceView> {
    const [kase, debtor, letters, bounds] = await Promise.all([
      this.cases.get(link.caseId),
      this.debtors.debtorOf(link.caseId),
      this.cases.letters(link.caseId),
      this.bounds(undefined, link.caseId),
    ]);
    if (!kase || !debtor) throw new NotFound('case', link.caseId);
    const locale = pickLocale(debtor.locale, this.config.DEFAULT_LOCALE);
    const now = this.clock.now();
    const account = caseAccount(kase.money, now);
    const { currency } = kase;
    const figures = (minor: bigint) => formatMinorUnits(minor, currency);
    const money = (minor: bigint) => formatMoney(figures(minor), currency, locale);
    const today = localDate(now, kase.timezone);
    return {
      locale,
      action: `/v1/self-service/${link.token}`,
      formToken: selfServiceFormToken(this.config.SELF_SERVICE_SECRET!, link.token),
      creditor: this.config.CREDITOR_NAME,
      debtorName: debtor.name,
      invoiceRef: kase.invoiceExternalId,
      dueDate: formatDate(calendarDueDate(kase.dueDate ?? '', kase.dueAt, kase.timezone), locale),
      status: kase.status,
      open: isOpen(kase.status),
      principal: money(account.principalOutstandingMinor),
      fees: money(account.totalDueMinor - account.principalOutstandingMinor),
      totalDue: money(account.totalDueMinor),
      paid: money(account.paidMinor),
      balance: formatMinorUnits(kase.balanceMinor, currency),
      currency,
      figures: {
        principal: figures(account.principalOutstandingMinor),
        fees: figures(account.totalDueMinor - account.principalOutstandingMinor),
        totalDue: figures(account.totalDueMinor),
      },
      payments: account.payments.map((p) => ({ date: formatDate(p.paidOn, locale), amount: money(p.amountMinor) })),
      letters: letters
        .filter((l) => l.recipientRole === 'debtor')
        .map((l) => ({ id: l.id, number: l.number, date: formatDate(localDate(l.issuedAt, kase.timezone), locale) })),
      payment: paymentRoute(this.config, { ref: kase.invoiceExternalId, caseId: kase.id }),
      today,
      latestPromise: latestPromiseDate(today, bounds),
      latestPromiseText: formatDate(latestPromiseDate(today, bounds), locale),
      planMaxInstalments: bounds.planMaxInstalments,
      latestPlanStartText: formatDate(latestPlanStart(today, bounds), locale),
      unsubscribeUrl: unsubscribeLink(this.config.PUBLIC_URL, debtor.unsubscribeToken),
      declinedChannels: debtor.declinedChannels,
      ...(message ? { message } : {}),
    };
  }

  /** The form token of this link's page, compared in constant time. */
  formTokenValid(link: OpenedLink, given: unknown): boolean {
    return checkSelfServiceFormToken(this.config.SELF_SERVICE_SECRET!, link.token, given);
  }

  /** The page was shown: on the trail with the figures it showed. */
  async viewed(link: OpenedLink, view: SelfServiceView): Promise<void> {
    const touch: TouchInput = {
      kind: 'self-service.viewed',
      actor: DEBTOR,
      data: { ...linkData(link), locale: view.locale, currency: view.currency, ...view.figures, status: view.status },
    };
    await this.transactions.run((tx) => this.audit.record(tx, link.caseId, [touch]));
  }

  /** A promise to pay within the policy's self-service bounds: the same promise and hold an operator's makes. */
  async promise(link: OpenedLink, amount: string, dueDate: string) {
    const [kase, bounds] = await Promise.all([this.cases.get(link.caseId), this.bounds(undefined, link.caseId)]);
    if (!kase) throw new NotFound('case', link.caseId);
    const outside = promiseOutOfBounds(dueDate, localDate(this.clock.now(), kase.timezone), bounds);
    if (outside) throw new DomainError('validation', `dueDate: ${outside}`, [{ field: 'dueDate', reason: outside }]);
    return this.commands.recordPromise(link.caseId, amount, dueDate, DEBTOR, SOURCE);
  }

  /**
   * Monthly instalments of the balance: inside the policy's self-service bounds the plan is agreed at once
   * (`plan.agreed`, a plan hold); outside, it is `plan.proposed` and a collector's work item.
   */
  async plan(link: OpenedLink, count: number, firstDate: string) {
    return this.commands.onOpenCase<PlanOutcome>(link.caseId, async (tx, kase, effects) => {
      const today = localDate(this.clock.now(), kase.timezone);
      if (firstDate < today)
        throw new DomainError('validation', `firstDate: must not be before today (${today})`, [
          { field: 'firstDate', reason: `must not be before today (${today})` },
        ]);
      const instalments = monthlyInstalments(kase.balanceMinor, kase.currency, count, firstDate);
      const outside = planOutOfBounds(count, firstDate, today, await this.bounds(tx, kase.id));
      if (!outside) {
        const { id, touches } = await this.commitments.plan(tx, kase, instalments, DEBTOR, effects);
        return { touches, result: { outcome: 'agreed', planId: id, instalments } };
      }
      const reason = `the debtor proposes a payment plan outside the self-service bounds (${outside})`;
      const escalation = await this.escalations.escalate(tx, kase, 'collector', DEBTOR, { reason });
      const touches: TouchInput[] = [
        {
          kind: 'plan.proposed',
          actor: DEBTOR,
          data: { ...linkData(link), currency: kase.currency, instalments, outside, workItemId: escalation.target.workItemId },
        },
        ...escalation.touches,
      ];
      return { touches, result: { outcome: 'proposed', instalments } };
    });
  }

  /**
   * The reminder channels the debtor declines: their notices go by the step's fallback or not at
   * all (docs/self-service.md). Recorded as `debtor.updated` when it changes anything.
   */
  async preferences(link: OpenedLink, declined: NoticeChannel[]): Promise<void> {
    await this.transactions.run(async (tx) => {
      const head = await this.audit.lockHead(tx, link.caseId);
      const before = await this.debtors.setDeclinedChannels(tx, link.caseId, declined);
      if (before.length === declined.length && before.every((channel) => declined.includes(channel))) return;
      const touch: TouchInput = { kind: 'debtor.updated', actor: DEBTOR, data: { ...linkData(link), declinedChannels: declined, before } };
      await this.audit.record(tx, link.caseId, [touch], head);
    });
  }

  /** A dispute with the debtor's reason: a dispute hold, as an operator would place. */
  async dispute(link: OpenedLink, reason: string) {
    return this.commands.placeHold(link.caseId, 'dispute', `disputed by the debtor: ${reason}`, DEBTOR);
  }
}

function linkData(link: OpenedLink) {
  return { source: SOURCE, linkIssuedAt: link.issuedAt.toISOString() };
}
