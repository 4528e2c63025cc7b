import { DateTime, Duration } from 'luxon';
import { localDayEnd } from './calendar';
import { checkContact, type ContactChannel, type GateRules, type HolidayCalendar } from './contact-gate';
import { DEBTOR_FLAG_HOLDS, type HoldKind } from './holds';

/**
 * Quality inspection (质检): a rubric of rules scored against every contact, people's and the
 * service's own. Pure: the caller brings the touch, its content, the case's earlier touches, the
 * debtor's recent contacts and the gate's rules.
 */

export const CONTACT_CHANNELS = ['call', 'visit', 'chat', 'email', 'letter'] as const;
export const CONTACT_DIRECTIONS = ['outbound', 'inbound'] as const;
export const CONTACT_PARTIES = ['debtor', 'guarantor', 'third-party'] as const;
export const CONTACT_OUTCOMES = ['right-party-contact', 'no-answer', 'wrong-number', 'promise', 'refusal', 'dispute', 'hardship'] as const;
export type ContactParty = (typeof CONTACT_PARTIES)[number];

/** The data of a `contact.recorded` touch (the contract the reports build on). */
export interface ContactRecord {
  contactId: string;
  channel: (typeof CONTACT_CHANNELS)[number];
  direction: (typeof CONTACT_DIRECTIONS)[number];
  party: ContactParty;
  relation?: string;
  outcome: (typeof CONTACT_OUTCOMES)[number];
  startedAt: string;
  durationSeconds: number;
  notes: string;
  transcript?: string;
  recordingRef?: string;
  agency?: string;
}

/** The contacts scored as they are recorded, and the promise, scored once its follow-up is due. */
export const SCORED_KINDS = ['contact.recorded', 'notice.sent', 'letter.sent', 'promise.recorded'] as const;
export type ScoredKind = (typeof SCORED_KINDS)[number];
/** The kinds the sweep scores in touch id order; a promise waits for its date. */
export const CONTACT_KINDS = ['contact.recorded', 'notice.sent', 'letter.sent'] as const satisfies readonly ScoredKind[];

export const DISCLOSURES = ['creditor', 'amount', 'payment', 'dispute', 'opt-out'] as const;
export type Disclosure = (typeof DISCLOSURES)[number];
export const WORDING_CATEGORIES = ['threat', 'abuse', 'deception', 'shaming', 'third-party-disclosure'] as const;
export type WordingCategory = (typeof WORDING_CATEGORIES)[number];
/** Phrase lists per locale ('en', 'zh-CN', …); every list is searched, whatever the contact's language. */
export type PhraseLists = Record<string, string[]>;

export type Check =
  /** Within the gate's hours and days in the debtor's zone (people's calls, visits and chats use the SMS window). */
  | { kind: 'contact-hours' }
  /** The gate's caps over every outbound contact of the debtor, people's too; `callsPerDay` caps calls and visits. */
  | { kind: 'contact-caps'; callsPerDay: number }
  /** No contact while a hold that stops contact (cease-contact, deceased, bankrupt) is on the case. */
  | { kind: 'no-contact-hold' }
  /** Debtor and guarantor; a third party only to locate the debtor, never told about the debt. */
  | { kind: 'party-allowed'; debtTerms: PhraseLists }
  /** Each named disclosure is in the content: one of its phrases, or the fact itself (the creditor's name, the amount…). */
  | { kind: 'disclosures'; require: Disclosure[]; phrases: Partial<Record<Disclosure, PhraseLists>> }
  | { kind: 'forbidden-wording'; categories: Partial<Record<WordingCategory, PhraseLists>> }
  /** A promise is followed up: kept, or a contact on the case from its date until `within` after it. */
  | { kind: 'promise-follow-up'; within: string }
  /** After a dispute hold is released, the ladder's next message only if the dispute was answered (an outbound contact to the debtor) meanwhile. */
  | { kind: 'dispute-answered' }
  /** A contact's record carries its outcome and notes of at least `minNotes` characters. */
  | { kind: 'record-complete'; minNotes: number };
export type CheckKind = Check['kind'];

export interface Rule {
  id: string;
  description: string;
  legalBasis: string;
  weight: number;
  autofail: boolean;
  touchKinds: ScoredKind[];
  check: Check;
}
export interface Rubric {
  rules: Rule[];
}

/** A touch of the case's trail the process rules read (only some kinds are loaded). */
export interface TrailTouch {
  id: string;
  kind: string;
  at: Date;
  data: Record<string, unknown>;
}
/** One of the debtor's outbound contacts: a message sent (`ref` its dispatch id) or a contact people recorded (`ref` its touch id). */
export interface DebtorContact {
  ref: string;
  at: Date;
  channel: 'email' | 'sms' | 'call' | 'visit' | 'chat' | 'letter';
}

export interface Inspection {
  touch: { id: string; kind: ScoredKind; at: Date; channel: string | null; data: Record<string, unknown> };
  /** The words of the contact: a person's notes and transcript, a notice's rendered text; null when unknown. */
  content: string | null;
  /** Values a disclosure may be shown by, e.g. the creditor's name, the amount as printed, the opt-out link. */
  facts: Partial<Record<Disclosure, string[]>>;
  debtor: { timezone: string; country: string | null };
  gate: GateRules;
  calendar: HolidayCalendar;
  /** The case's earlier touches (contacts, holds, promises), oldest first. */
  trail: TrailTouch[];
  /** The debtor's outbound contacts in the week before this one, on every case. */
  contacts: DebtorContact[];
  now: Date;
}

export interface RuleOutcome {
  ruleId: string;
  autofail: boolean;
  passed: boolean;
  detail: string;
}
export interface Scorecard {
  score: number;
  passed: string[];
  failed: string[];
  autofailed: boolean;
  findings: RuleOutcome[];
}

/** NFKC, case-folded, whitespace collapsed: full-width letters, case and line breaks do not hide a phrase. */
export function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/** The phrases of `lists` that occur in `text` (both normalised). */
export function phrasesIn(text: string, lists: PhraseLists | undefined): string[] {
  if (!lists) return [];
  const haystack = normalise(text);
  return Object.values(lists)
    .flat()
    .filter((phrase) => {
      const needle = normalise(phrase);
      return needle.length > 0 && haystack.includes(needle);
    });
}

/** The rules that apply to a kind of touch. */
export const rulesFor = (rubric: Rubric, kind: ScoredKind): Rule[] => rubric.rules.filter((rule) => rule.touchKinds.includes(kind));

/**
 * Scores a touch against the rules for its kind: the share of the applicable rules' weight that
 * passed, 0–100; a rule that does not apply to this touch (a letter's hours) counts for neither.
 * One failed autofail rule fails the touch (score 0).
 */
export function scoreTouch(rubric: Rubric, inspection: Inspection): Scorecard {
  const outcomes: (RuleOutcome & { weight: number })[] = [];
  for (const rule of rulesFor(rubric, inspection.touch.kind)) {
    const verdict = runCheck(rule.check, inspection);
    if (verdict) outcomes.push({ ruleId: rule.id, autofail: rule.autofail, weight: rule.weight, ...verdict });
  }
  const total = outcomes.reduce((sum, outcome) => sum + outcome.weight, 0);
  const earned = outcomes.filter((outcome) => outcome.passed).reduce((sum, outcome) => sum + outcome.weight, 0);
  const failed = outcomes.filter((outcome) => !outcome.passed);
  const autofailed = failed.some((outcome) => outcome.autofail);
  return {
    score: autofailed ? 0 : total === 0 ? 100 : Math.round((earned / total) * 100),
    passed: outcomes.filter((outcome) => outcome.passed).map((outcome) => outcome.ruleId),
    failed: failed.map((outcome) => outcome.ruleId),
    autofailed,
    findings: failed.map(({ ruleId, autofail, passed, detail }) => ({ ruleId, autofail, passed, detail })),
  };
}

type Verdict = { passed: boolean; detail: string } | null;
const pass = (detail: string): Verdict => ({ passed: true, detail });
const fail = (detail: string): Verdict => ({ passed: false, detail });

/** One check on one touch; null when it does not apply to this touch. */
export function runCheck(check: Check, inspection: Inspection): Verdict {
  switch (check.kind) {
    case 'contact-hours':
      return contactHours(inspection);
    case 'contact-caps':
      return contactCaps(check.callsPerDay, inspection);
    case 'no-contact-hold':
      return noContactHold(inspection);
    case 'party-allowed':
      return partyAllowed(check.debtTerms, inspection);
    case 'disclosures':
      return disclosures(check.require, check.phrases, inspection);
    case 'forbidden-wording':
      return forbiddenWording(check.categories, inspection);
    case 'promise-follow-up':
      return promiseFollowUp(check.within, inspection);
    case 'dispute-answered':
      return disputeAnswered(inspection);
    case 'record-complete':
      return recordComplete(check.minNotes, inspection);
  }
}

const contactOf = (inspection: Inspection): ContactRecord | null =>
  inspection.touch.kind === 'contact.recorded' ? (inspection.touch.data as unknown as ContactRecord) : null;

/** When the contact happened: a person's call when it started, a message when it was sent. */
const contactAt = (inspection: Inspection): Date => {
  const contact = contactOf(inspection);
  return contact ? new Date(contact.startedAt) : inspection.touch.at;
};

/** The gate window a contact is held to; null for a posted letter, which reaches the debtor at no set hour. */
function gateChannel(inspection: Inspection): ContactChannel | null {
  const channel = contactOf(inspection)?.channel ?? inspection.touch.channel;
  if (channel === 'email') return 'email';
  if (channel === 'sms' || channel === 'call' || channel === 'visit' || channel === 'chat') return 'sms';
  return null;
}

function contactHours(inspection: Inspection): Verdict {
  const contact = contactOf(inspection);
  // The debtor who calls in chose the hour.
  if (contact?.direction === 'inbound') return null;
  const channel = gateChannel(inspection);
  if (!channel) return null;
  const at = contactAt(inspection);
  const decision = checkContact({ at, channel, ...inspection.debtor }, [], inspection.gate, inspection.calendar);
  if (decision.allowed) return pass(`within the contact hours and days in ${inspection.debtor.timezone}`);
  return fail(decision.blocks.map((block) => block.detail).join('; '));
}

const DAY_MS = 86_400_000;
const PERSONAL_CHANNELS = new Set<DebtorContact['channel']>(['call', 'visit']);

function contactCaps(callsPerDay: number, inspection: Inspection): Verdict {
  const contact = contactOf(inspection);
  if (contact?.direction === 'inbound') return null;
  const channel = contact?.channel ?? inspection.touch.channel;
  const at = contactAt(inspection).getTime();
  // Not the contact itself: a person's by its touch, a notice by its dispatch.
  const { dispatchId } = inspection.touch.data;
  const own = new Set([inspection.touch.id, typeof dispatchId === 'string' ? dispatchId : '']);
  const earlier = inspection.contacts.filter((other) => !own.has(other.ref) && other.at.getTime() <= at);
  const within = (ms: number, same?: (other: DebtorContact) => boolean) =>
    earlier.filter((other) => at - other.at.getTime() < ms && (!same || same(other))).length;
  const breaches: string[] = [];
  const week = within(7 * DAY_MS);
  if (week >= inspection.gate.caps.contactsPerWeek) breaches.push(`${week} contacts in the 7 days before (cap ${inspection.gate.caps.contactsPerWeek})`);
  if (channel === 'email' || channel === 'sms') {
    const cap = channel === 'email' ? inspection.gate.caps.emailPerDay : inspection.gate.caps.smsPerDay;
    const day = within(DAY_MS, (other) => other.channel === channel);
    if (day >= cap) breaches.push(`${day} ${channel === 'email' ? 'email' : 'SMS'} ${day === 1 ? 'message' : 'messages'} in the 24 h before (cap ${cap})`);
  }
  if (channel === 'call' || channel === 'visit') {
    const day = within(DAY_MS, (other) => PERSONAL_CHANNELS.has(other.channel));
    if (day >= callsPerDay) breaches.push(`${day} calls and visits in the 24 h before (cap ${callsPerDay})`);
  }
  return breaches.length ? fail(breaches.join('; ')) : pass('within the caps');
}

/** The holds on the case just before `beforeId`, from its trail of hold.placed and hold.released. */
export function activeHolds(trail: readonly TrailTouch[], beforeId: string): Map<string, HoldKind> {
  const holds = new Map<string, HoldKind>();
  for (const touch of trail) {
    if (BigInt(touch.id) >= BigInt(beforeId)) break;
    if (touch.kind === 'hold.placed') holds.set(String(touch.data.holdId), touch.data.kind as HoldKind);
    if (touch.kind === 'hold.released') for (const id of (touch.data.holdIds as string[] | undefined) ?? []) holds.delete(id);
  }
  return holds;
}

const NO_CONTACT_HOLDS: readonly HoldKind[] = DEBTOR_FLAG_HOLDS;

function noContactHold(inspection: Inspection): Verdict {
  const contact = contactOf(inspection);
  if (contact?.direction === 'inbound') return null;
  const stopping = [...activeHolds(inspection.trail, inspection.touch.id).values()].filter((kind) => NO_CONTACT_HOLDS.includes(kind));
  // A letter the law requires still goes by post under cease-contact.
  if (inspection.touch.kind === 'letter.sent' && inspection.touch.channel === 'post') return null;
  return stopping.length ? fail(`contact while the case is held: ${stopping.join(', ')}`) : pass('no hold stops contact');
}

function partyAllowed(debtTerms: PhraseLists, inspection: Inspection): Verdict {
  const contact = contactOf(inspection);
  if (!contact) return null;
  if (contact.party !== 'third-party') return pass(`the ${contact.party}`);
  const told = phrasesIn(wordsOf(contact), debtTerms);
  if (told.length) return fail(`a third party${contact.relation ? ` (${contact.relation})` : ''} was told about the debt: ${quote(told)}`);
  return pass('a third party, to locate the debtor, not told about the debt');
}

function disclosures(required: readonly Disclosure[], phrases: Partial<Record<Disclosure, PhraseLists>>, inspection: Inspection): Verdict {
  if (inspection.content === null) return null;
  const text = normalise(inspection.content);
  const missing = required.filter((disclosure) => {
    const facts = (inspection.facts[disclosure] ?? []).filter((fact) => normalise(fact).length > 0);
    return !facts.some((fact) => text.includes(normalise(fact))) && phrasesIn(text, phrases[disclosure]).length === 0;
  });
  return missing.length ? fail(`missing: ${missing.join(', ')}`) : pass(`states ${required.join(', ')}`);
}

function forbiddenWording(categories: Partial<Record<WordingCategory, PhraseLists>>, inspection: Inspection): Verdict {
  const contact = contactOf(inspection);
  const text = contact ? wordsOf(contact) : inspection.content;
  if (text === null) return null;
  const found = WORDING_CATEGORIES.flatMap((category) => {
    const hits = phrasesIn(text, categories[category]);
    return hits.length ? [`${category}: ${quote(hits)}`] : [];
  });
  return found.length ? fail(found.join('; ')) : pass('no forbidden wording');
}

/** Whether the promise's follow-up can be judged at `now`: its date plus `within` has passed on the debtor's calendar. */
export function followUpDue(dueDate: string, timezone: string, within: string, now: Date): boolean {
  return now.getTime() >= followUpEnd(dueDate, timezone, within).getTime();
}

const followUpEnd = (dueDate: string, timezone: string, within: string): Date =>
  DateTime.fromJSDate(localDayEnd(dueDate, timezone), { zone: timezone }).plus(Duration.fromISO(within)).toJSDate();

/** Touches that close a case: a promise on it needs no follow-up after them. */
export const CLOSING_KINDS: readonly string[] = ['case.resolved', 'case.cancelled', 'case.written_off'];

function promiseFollowUp(within: string, inspection: Inspection): Verdict {
  if (inspection.touch.kind !== 'promise.recorded') return null;
  const promiseId = String(inspection.touch.data.promiseId);
  const dueDate = String(inspection.touch.data.dueDate);
  const { timezone } = inspection.debtor;
  const from = DateTime.fromISO(dueDate, { zone: timezone }).startOf('day').toJSDate();
  const until = followUpEnd(dueDate, timezone, within);
  const later = inspection.trail.filter((touch) => BigInt(touch.id) > BigInt(inspection.touch.id));
  if (later.some((touch) => touch.kind === 'promise.kept' && touch.data.promiseId === promiseId)) return pass('the promise was kept');
  // A newer promise replaces this one; its own follow-up is judged then.
  if (later.some((touch) => touch.kind === 'promise.recorded' && touch.data.replaces === promiseId)) return pass('replaced by a newer promise');
  // Nothing is left to follow up on a case that closed before the follow-up was due.
  const closed = later.find((touch) => CLOSING_KINDS.includes(touch.kind) && touch.at.getTime() < until.getTime());
  if (closed) return pass(`the case closed (${closed.kind}) before the follow-up was due`);
  const followedUp = later.some((touch) => {
    if (touch.kind !== 'contact.recorded') return false;
    const started = new Date(String(touch.data.startedAt)).getTime();
    return started >= from.getTime() && started < until.getTime();
  });
  return followedUp ? pass(`followed up from ${dueDate}`) : fail(`no contact followed up the promise due ${dueDate} by ${until.toISOString()}`);
}

function disputeAnswered(inspection: Inspection): Verdict {
  if (inspection.touch.kind !== 'notice.sent' && inspection.touch.kind !== 'letter.sent') return null;
  const before = inspection.trail.filter((touch) => BigInt(touch.id) < BigInt(inspection.touch.id));
  // The last dispute hold, and where it was released; a message after the release resumes the ladder.
  const placedAt = before.findLastIndex((touch) => touch.kind === 'hold.placed' && touch.data.kind === 'dispute');
  if (placedAt < 0) return null;
  const holdId = String(before[placedAt]!.data.holdId);
  const releasedAt = before.findIndex(
    (touch, index) => index > placedAt && touch.kind === 'hold.released' && ((touch.data.holdIds as string[] | undefined) ?? []).includes(holdId),
  );
  if (releasedAt < 0) return null;
  const answered = before
    .slice(placedAt + 1, releasedAt)
    .some((touch) => touch.kind === 'contact.recorded' && touch.data.direction === 'outbound' && touch.data.party === 'debtor');
  return answered ? pass('the dispute was answered before the ladder resumed') : fail('the ladder resumed after a dispute that no contact answered');
}

function recordComplete(minNotes: number, inspection: Inspection): Verdict {
  const contact = contactOf(inspection);
  if (!contact) return null;
  const notes = normalise(contact.notes ?? '');
  if (!contact.outcome) return fail('no outcome recorded');
  if ([...notes].length < minNotes) return fail(`notes of ${[...notes].length} characters (at least ${minNotes})`);
  return pass('outcome and notes recorded');
}

/** What a person said or wrote in the contact, as recorded. */
const wordsOf = (contact: ContactRecord): string => [contact.notes, contact.transcript ?? ''].join('\n');

const quote = (phrases: readonly string[]) => phrases.map((phrase) => `"${phrase}"`).join(', ');
