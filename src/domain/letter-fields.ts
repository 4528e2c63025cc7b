/** The letters the product writes, and the facts each one states (domain.md, "Letters"). */
export const LETTER_TYPES = ['payment-demand', 'contract-termination', 'document-request', 'guarantor-notice'] as const;
export type LetterType = (typeof LETTER_TYPES)[number];

export type LetterLocale = 'en' | 'zh-CN';

/** The accrued late fee a letter states, all amounts as decimal strings in the case currency. */
export interface LetterFee {
  /** First day the fee runs (the day after the due date), YYYY-MM-DD. */
  startDate: string;
  /** Daily rate as a decimal fraction, e.g. "0.0004" for 0.04 % a day. */
  ratePerDay: string;
  /** Days overdue counted up to `asOf`. */
  days: number;
  /** The amount the rate applies to (the outstanding balance). */
  base: string;
  /** Fee accrued up to and including `asOf`, after rounding and cap. */
  accrued: string;
  /** What each further day adds (0 once the cap is reached). */
  perDay: string;
  asOf: string;
  /** The cap, when one applies, and whether it was reached. */
  cap: string | null;
  capped: boolean;
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
  contract: { ref: string | null; date: string | null };
  invoice: { ref: string; dueDate: string };
  currency: string;
  principal: string;
  outstanding: string;
  /** Null when no late-fee rate applies to the invoice. */
  fee: LetterFee | null;
  /** Outstanding plus fees assessed or accrued. */
  totalDue: string;
  /** Pay (or supply documents) by this date, YYYY-MM-DD. */
  deadline: string;
  /** Document request: what the debtor must supply. */
  documents: string[];
  /** Contract termination: the letters already sent on the case, oldest first. */
  previousLetters: { number: string; type: LetterType; date: string }[];
  /** Reminder notices already sent on the case. */
  noticesSent: number;
  /** Guarantor notice: when the guarantee period ends, YYYY-MM-DD. */
  guaranteeEndsOn: string | null;
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
