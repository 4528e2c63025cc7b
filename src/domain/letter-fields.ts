import type { AllocationPart } from './allocation';
import type { GuaranteeType } from './legal-clocks';

/** The letters the product writes, and the facts each one states (domain.md, "Letters"). */
export const LETTER_TYPES = ['payment-demand', 'contract-termination', 'document-request', 'guarantor-notice'] as const;
export type LetterType = (typeof LETTER_TYPES)[number];

/** Letters that claim payment from the debtor: where the law counts a delivered demand, each interrupts the limitation period. */
export const LETTERS_CLAIMING_PAYMENT: readonly LetterType[] = ['payment-demand', 'document-request', 'contract-termination'];

export type LetterLocale = 'en' | 'zh-CN';

/** The late fee a letter states, all amounts as decimal strings in the case currency (domain/account.ts). */
export interface LetterFee {
  /** First day the fee runs (the day after the due date), YYYY-MM-DD. */
  startDate: string;
  /** Daily rate as a decimal fraction, e.g. "0.0004" for 0.04 % a day. */
  ratePerDay: string;
  /** Days overdue counted up to `asOf`. */
  days: number;
  /** The balance the fee runs on now. */
  base: string;
  /** One line per balance period (each payment ends one): base × days × rate = product, of which `fee` fits under the cap. */
  periods: { from: string; to: string; days: number; base: string; product: string; fee: string }[];
  /** Fee accrued up to and including `asOf`, after rounding and cap. */
  accrued: string;
  /** What payments have paid of it. */
  paid: string;
  outstanding: string;
  /** What each further day adds (0 once the cap is reached). */
  perDay: string;
  asOf: string;
  /** The cap, when one applies, and whether it was reached. */
  cap: string | null;
  capped: boolean;
}

/** A payment the letter acknowledges, and what it paid. */
export interface LetterPayment {
  date: string;
  amount: string;
  toCosts: string;
  toInterest: string;
  toPrincipal: string;
}

/** Everything a letter template may print. Dates are YYYY-MM-DD, money decimal strings; the renderer formats them per locale. */
export interface LetterFields {
  type: LetterType;
  locale: LetterLocale;
  /** Unique letter number, e.g. L-2026-000042. */
  number: string;
  /** Letter date, YYYY-MM-DD in the recipient's time zone. */
  date: string;
  creditor: { name: string; address: string | null; contactName: string; contactPhone: string | null; contactEmail: string | null };
  recipient: { role: 'debtor' | 'guarantor'; name: string; address: Record<string, string> | null };
  /** The principal debtor (also the recipient unless this is a guarantor notice). */
  debtor: { name: string };
  /** `inForce`: not terminated, nor its termination sent (the legal record). */
  contract: { ref: string | null; date: string | null; inForce: boolean };
  invoice: { ref: string; dueDate: string };
  currency: string;
  /** The invoice amount. */
  principal: string;
  /** Payments received, in the order they were paid, and their total; each paid these parts in this order. */
  payments: LetterPayment[];
  allocation: readonly AllocationPart[];
  paid: string;
  /** The principal still unpaid. */
  outstanding: string;
  /** Null when no late-fee rate applies to the invoice. */
  fee: LetterFee | null;
  /** Fixed charges (costs) still unpaid. */
  costs: string;
  /** Principal, late fee and costs still unpaid. */
  totalDue: string;
  /** Pay (or supply documents) by this date, YYYY-MM-DD; moved past a rest day or holiday where the law says so. */
  deadline: string;
  /** Document request: what the debtor must supply. */
  documents: string[];
  /** Letters sent to this recipient on the case before this one, oldest first (returned ones left out). */
  previousLetters: { number: string; type: LetterType; date: string }[];
  /** Reminders (emails, SMS) sent to this recipient on the case, and the day of the last one. */
  noticesSent: number;
  lastNoticeDate: string | null;
  /** Guarantor notice: when the guarantee period ends, YYYY-MM-DD, and the guarantee's type. */
  guaranteeEndsOn: string | null;
  guaranteeType: GuaranteeType | null;
  /** How to pay and how to dispute (channels/creditor.ts). */
  payment: { payee: string; bank: string | null; account: string | null; link: string | null; reference: string };
  dispute: { email: string | null; phone: string | null; url: string | null };
  /** The debtor's self-service page for this case (a letter to a guarantor has none; absent on letters issued before it). */
  selfServiceUrl?: string | null;
  /** The last day the link works (YYYY-MM-DD, SELF_SERVICE_LINK_TTL after the letter was made). */
  selfServiceUntil?: string | null;
}

/** A character no letter font can draw: the letter is refused rather than printed with a blank box. */
export interface UndrawableCharacter {
  /** Where it occurs, as a path into LetterFields, e.g. "recipient.name". */
  field: string;
  char: string;
  /** "U+20000" */
  codePoint: string;
}

export class UndrawableText extends Error {
  constructor(readonly characters: UndrawableCharacter[]) {
    super(
      `the letter fonts cannot draw ${characters.map((c) => `${c.codePoint} (${c.char}) in ${c.field}`).join(', ')}; correct the data or add a font that has these characters`,
    );
  }
}

export interface RenderedLetter {
  pdf: Buffer;
  /** `letters/<type>/<locale>`, recorded as evidence with `templateVersion`. */
  templateKey: string;
  /** sha256 prefix of the template source, as for email templates. */
  templateVersion: string;
}
