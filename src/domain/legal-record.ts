import { localDate } from './calendar';
import { type GuaranteeStatus, guaranteeStatus, type GuaranteeType, restartLimitation } from './legal-clocks';
import type { LetterType } from './letter-fields';
import type { TouchKind } from './touch-kinds';

/**
 * A case's legal record: what its touches prove about the contract, the demands and reminders,
 * the guarantees and the limitation period. Derived, never stored apart: the same touches give
 * the same record, so the record cannot drift from the evidence. Pure.
 */

/** The touches the record is read from. */
export const LEGAL_TOUCH_KINDS = [
  'case.opened',
  'event.received',
  'payment.applied',
  'promise.recorded',
  'notice.sent',
  'notice.delivered',
  'notice.bounced',
  'notice.opened',
  'letter.sent',
  'letter.delivered',
  'letter.returned',
  'letter.failed',
  'contract.terminated',
  'limitation.restarted',
  'limitation.restart_withdrawn',
  'work-item.completed',
] as const satisfies readonly TouchKind[];

export interface LegalTouch {
  seq: number;
  kind: string;
  at: Date;
  channel: string | null;
  data: Record<string, unknown>;
}

export interface LetterRecord {
  letterId: string;
  number: string;
  type: LetterType;
  recipient: { role: 'debtor' | 'guarantor'; id: string };
  /** When it first went out (its email was accepted, or it was queued for post). */
  sentAt: Date;
  sentOn: string;
  channels: ('email' | 'post')[];
  /**
   * When it reached its recipient: the recipient's mail server accepted the email (a data message
   * reaches its addressee when it enters their system, PRC Civil Code art. 137), or the carrier
   * reported the post delivered.
   */
  deliveredAt: Date | null;
  deliveredOn: string | null;
  deliveredBy: 'email' | 'post' | null;
  /** The post came back undelivered. */
  returned: boolean;
  /** The day the letter gave its recipient to pay by (null for a letter recorded before letters kept it). */
  deadline: string | null;
}

export interface ReminderRecord {
  at: Date;
  on: string;
  channel: 'email' | 'sms';
  template: string;
  dispatchId: string;
  delivered: boolean;
}

export interface GuaranteeRecord {
  guarantorId: string;
  externalId: string;
  type: GuaranteeType;
  endsOn: string;
  notifiedOn: string | null;
  suedOn: string | null;
  status: GuaranteeStatus;
}

export interface LimitationRestart {
  on: string;
  cause: string;
  /** The law's reason the period restarts (acknowledgment, part-payment, demand-delivered, promise); null for a restart recorded before it was named. */
  ground: string | null;
  previousDate: string;
  limitationDate: string;
  /** The touch that interrupted the period (a delivery, a payment, a signed acknowledgment…). */
  source: { kind: string; seq: number } | null;
}

export interface LegalRecord {
  contract: {
    status: 'in-force' | 'termination-sent' | 'terminated';
    /** The termination: by a letter (effective when it reaches the debtor) or by a terminate-contract step. */
    terminatedBy: { letterId: string; number: string } | { stepId: string | null } | null;
    declaredOn: string | null;
    effectiveOn: string | null;
  };
  demands: { sent: number; delivered: number; letters: LetterRecord[] };
  reminders: { sent: number; delivered: number; items: ReminderRecord[] };
  letters: LetterRecord[];
  guarantees: GuaranteeRecord[];
  limitation: {
    jurisdiction: string | null;
    law: string | null;
    startsOn: string | null;
    /** The period's last day as of the latest restart. */
    expiresOn: string | null;
    restarts: LimitationRestart[];
  };
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** Letters that demand payment of the debtor: a delivered one is a 催告 (art. 563(1)(3)). */
export const DEMAND_LETTERS: readonly LetterType[] = ['payment-demand'];

/** Folds a case's touches (in seq order) into its legal record, as of `today` on the debtor's calendar. */
export function legalRecord(touches: readonly LegalTouch[], timezone: string, today: string): LegalRecord {
  const day = (at: Date) => localDate(at, timezone);
  const letters = new Map<string, LetterRecord>();
  const reminders = new Map<string, ReminderRecord>();
  const guarantees: Omit<GuaranteeRecord, 'status'>[] = [];
  const restarts: LimitationRestart[] = [];
  // The touch seq of each restart, in step with `restarts`: a withdrawal names the restart by it.
  const restartSeqs: number[] = [];
  const limitation: LegalRecord['limitation'] = { jurisdiction: null, law: null, startsOn: null, expiresOn: null, restarts };
  let termination: { by: LegalRecord['contract']['terminatedBy']; on: string; effectiveOn: string | null; letterId: string | null } | null = null;
  let suedOn: string | null = null;
  // Letters whose email failed for good (the step gave up on them).
  const failed = new Set<string>();
  // Letters by the dispatch of their email: a hard bounce reported on it means it never reached its recipient.
  const emailed = new Map<string, LetterRecord>();
  // Emails the recipient opened: they arrived, whatever a later bounce report says.
  const opened = new Set<string>();
  // Emails that bounced for good, for a letter whose record was written after the report came.
  const bounced = new Set<string>();
  // When the post delivered a letter that had already reached its recipient by email.
  const postedToo = new Map<string, Date>();

  const deliver = (letter: LetterRecord, at: Date, by: 'email' | 'post') => {
    if (letter.deliveredAt) return;
    Object.assign(letter, { deliveredAt: at, deliveredOn: day(at), deliveredBy: by });
  };

  for (const touch of touches) {
    const data = touch.data;
    switch (touch.kind) {
      case 'case.opened': {
        limitation.jurisdiction = str(data.jurisdiction);
        limitation.expiresOn = str(data.limitationDate);
        const terms = (data.limitation ?? {}) as { startsOn?: string; law?: string };
        limitation.startsOn = terms.startsOn ?? null;
        limitation.law = terms.law ?? null;
        for (const g of (data.guarantors ?? []) as { guarantorId: string; externalId: string; guaranteeEndsOn: string; type?: GuaranteeType }[]) {
          // Cases opened before guarantees had a type: the law presumes a general guarantee.
          guarantees.push({
            guarantorId: g.guarantorId,
            externalId: g.externalId,
            type: g.type ?? 'general',
            endsOn: g.guaranteeEndsOn,
            notifiedOn: null,
            suedOn: null,
          });
        }
        break;
      }
      case 'notice.sent': {
        const dispatchId = str(data.dispatchId) ?? `seq-${touch.seq}`;
        const channel = touch.channel === 'sms' ? 'sms' : 'email';
        reminders.set(dispatchId, { at: touch.at, on: day(touch.at), channel, template: str(data.template) ?? '', dispatchId, delivered: false });
        break;
      }
      case 'notice.delivered': {
        const reminder = reminders.get(str(data.dispatchId) ?? '');
        if (reminder && data.status === 'delivered') reminder.delivered = true;
        break;
      }
      case 'letter.sent': {
        const letterId = str(data.letterId);
        if (!letterId) break;
        const recipient = data.recipient as { role: 'debtor' | 'guarantor'; id: string };
        const letter = letters.get(letterId) ?? {
          letterId,
          number: str(data.number) ?? '',
          type: data.type as LetterType,
          recipient: { role: recipient.role, id: recipient.id },
          sentAt: touch.at,
          sentOn: day(touch.at),
          channels: [],
          deliveredAt: null,
          deliveredOn: null,
          deliveredBy: null,
          returned: false,
          deadline: str(data.deadline),
        };
        letters.set(letterId, letter);
        const channel = touch.channel === 'post' ? 'post' : 'email';
        if (!letter.channels.includes(channel)) letter.channels.push(channel);
        if (channel === 'email' && !bounced.has(str(data.dispatchId) ?? '')) deliver(letter, touch.at, 'email');
        if (channel === 'email' && str(data.dispatchId)) emailed.set(str(data.dispatchId)!, letter);
        break;
      }
      case 'notice.opened': {
        opened.add(str(data.dispatchId) ?? '');
        break;
      }
      case 'notice.bounced': {
        // A soft bounce is a delay; only a hard one says the message never arrived.
        const dispatchId = str(data.dispatchId) ?? '';
        if (data.bounce !== 'hard' || opened.has(dispatchId)) break;
        bounced.add(dispatchId);
        const reminder = reminders.get(dispatchId);
        if (reminder) reminder.delivered = false;
        const letter = emailed.get(dispatchId);
        if (letter?.deliveredBy === 'email') {
          Object.assign(letter, { deliveredAt: null, deliveredOn: null, deliveredBy: null });
          // The post delivered it as well: it reached its recipient then.
          const posted = postedToo.get(letter.letterId);
          if (posted) deliver(letter, posted, 'post');
        }
        break;
      }
      case 'letter.delivered':
      case 'letter.returned': {
        const letter = letters.get(str(data.letterId) ?? '');
        if (!letter) break;
        const at = str(data.at) ? new Date(data.at as string) : touch.at;
        if (touch.kind === 'letter.returned') letter.returned = true;
        else if (letter.deliveredBy === 'email') postedToo.set(letter.letterId, at);
        else deliver(letter, at, 'post');
        break;
      }
      case 'letter.failed': {
        for (const letter of (data.letters as { id?: string }[] | undefined) ?? []) if (letter.id) failed.add(letter.id);
        break;
      }
      case 'contract.terminated': {
        if (termination) break;
        const letterId = str(data.letterId);
        termination = letterId
          ? { by: { letterId, number: str(data.number) ?? '' }, on: day(touch.at), effectiveOn: null, letterId }
          : { by: { stepId: str(data.stepId) }, on: day(touch.at), effectiveOn: str(data.effectiveDate) ?? day(touch.at), letterId: null };
        break;
      }
      case 'limitation.restarted': {
        limitation.expiresOn = str(data.limitationDate) ?? limitation.expiresOn;
        const source = data.source as { kind: string; key: Record<string, unknown> } | undefined;
        restarts.push({
          on: str(data.restartedOn) ?? day(touch.at),
          cause: str(data.cause) ?? 'unknown',
          ground: str(data.ground),
          previousDate: str(data.previousDate) ?? '',
          limitationDate: str(data.limitationDate) ?? '',
          source: source ? sourceOf(touches, touch.seq, source) : null,
        });
        restartSeqs.push(touch.seq);
        break;
      }
      case 'limitation.restart_withdrawn': {
        // The restart's ground turned out false (the demand never reached the debtor): it never happened.
        const index = restartSeqs.indexOf(Number(data.restartSeq));
        if (index >= 0) {
          restarts.splice(index, 1);
          restartSeqs.splice(index, 1);
        }
        limitation.expiresOn = str(data.limitationDate) ?? limitation.expiresOn;
        break;
      }
      case 'work-item.completed': {
        // A legal work item closed as filed: a suit or arbitration against the debtor.
        if (data.kind === 'legal' && data.outcome === 'filed' && suedOn === null) suedOn = day(touch.at);
        break;
      }
    }
  }

  const allLetters = [...letters.values()];
  for (const g of guarantees) {
    // The earliest notice to reach the guarantor, whichever was sent first.
    const delivered = allLetters
      .filter((l) => l.type === 'guarantor-notice' && l.recipient.id === g.guarantorId && l.deliveredOn !== null)
      .map((l) => l.deliveredOn!);
    g.notifiedOn = delivered.length > 0 ? delivered.sort()[0]! : null;
    g.suedOn = suedOn;
  }
  let terminated = termination;
  if (terminated?.letterId) {
    const letter = letters.get(terminated.letterId);
    terminated.effectiveOn = letter?.deliveredOn ?? null;
    // A termination that can no longer reach the debtor (its post came back, its email failed with
    // no post on the way) never took effect: the contract is in force and may be terminated again.
    const postPending = letter?.channels.includes('post') && !letter.returned;
    const lost = letter?.returned === true || (failed.has(terminated.letterId) && !postPending);
    if (!terminated.effectiveOn && lost) terminated = null;
  }
  const demands = allLetters.filter((l) => DEMAND_LETTERS.includes(l.type) && l.recipient.role === 'debtor');
  const reminderItems = [...reminders.values()];
  return {
    contract: {
      status: !terminated ? 'in-force' : terminated.effectiveOn ? 'terminated' : 'termination-sent',
      terminatedBy: terminated?.by ?? null,
      declaredOn: terminated?.on ?? null,
      effectiveOn: terminated?.effectiveOn ?? null,
    },
    demands: { sent: demands.length, delivered: demands.filter((l) => l.deliveredAt).length, letters: demands },
    reminders: { sent: reminderItems.length, delivered: reminderItems.filter((r) => r.delivered).length, items: reminderItems },
    letters: allLetters,
    guarantees: guarantees.map((g) => ({ ...g, status: guaranteeStatus(g, today) })),
    limitation,
  };
}

/** The latest touch before `seq` of the source's kind whose data carries the source's key. */
function sourceOf(touches: readonly LegalTouch[], seq: number, source: { kind: string; key: Record<string, unknown> }): { kind: string; seq: number } | null {
  const match = touches
    .filter((t) => t.seq < seq && t.kind === source.kind)
    .reverse()
    .find((t) => Object.entries(source.key).every(([field, value]) => t.data[field] === value));
  return match ? { kind: match.kind, seq: match.seq } : null;
}

/** What a hard bounce on a demand's email undoes of the limitation period. */
export interface BouncedDemand {
  /** The restart the email's delivery made. */
  restartSeq: number;
  letterId: string;
  number: string;
  /** The period's last day without that restart: the opening date, and every restart that still stands replayed in order. */
  limitationDate: string;
  /** The post delivered the same letter: it reached the debtor then, which restarts the period instead. */
  postDeliveredAt: Date | null;
}

/**
 * A hard bounce on the email `dispatchId`: if that email was a letter whose delivery restarted the
 * limitation period, and no withdrawal names the restart yet, what the period becomes without it
 * (a demand that never arrived interrupts nothing). Null when it restarted nothing, or the
 * recipient opened the email (it arrived). Replaying the standing restarts, rather than taking
 * the restart's previous date, keeps a restart withdrawn earlier withdrawn. Pure.
 */
export function bouncedDemand(touches: readonly LegalTouch[], dispatchId: string): BouncedDemand | null {
  const sent = touches.find((t) => t.kind === 'letter.sent' && t.channel !== 'post' && t.data.dispatchId === dispatchId);
  const letterId = sent && str(sent.data.letterId);
  if (!letterId || touches.some((t) => t.kind === 'notice.opened' && t.data.dispatchId === dispatchId)) return null;
  const withdrawn = new Set(touches.filter((t) => t.kind === 'limitation.restart_withdrawn').map((t) => Number(t.data.restartSeq)));
  const standing = touches.filter((t) => t.kind === 'limitation.restarted' && !withdrawn.has(t.seq));
  const restart = standing.find((t) => {
    const source = t.data.source as { kind?: string; key?: Record<string, unknown> } | undefined;
    return source?.kind === 'letter.sent' && source.key?.letterId === letterId;
  });
  const openedOn = str(touches.find((t) => t.kind === 'case.opened')?.data.limitationDate);
  if (!restart || !openedOn) return null;
  let date = openedOn;
  for (const other of standing) {
    if (other === restart) continue;
    const [on, period] = [str(other.data.restartedOn), str(other.data.period)];
    const recorded = str(other.data.limitationDate);
    if (on && period) date = restartLimitation(date, on, period).date;
    else if (recorded && recorded > date) date = recorded;
  }
  const post = touches.find((t) => t.kind === 'letter.delivered' && t.data.letterId === letterId);
  return {
    restartSeq: restart.seq,
    letterId,
    number: str(restart.data.number) ?? str(sent.data.number) ?? '',
    limitationDate: date,
    postDeliveredAt: post ? new Date(str(post.data.at) ?? post.at.toISOString()) : null,
  };
}
