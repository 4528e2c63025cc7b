import { createHash } from 'node:crypto';
import type { TouchKind } from './touch-kinds';

/**
 * What a provider reports about a message we sent, as its dispatch keeps it: one model for email
 * (provider events, RFC 3464 reports) and SMS (the provider's receipts).
 * `failed`: an SMS the provider could not deliver. `soft-bounced`: an email refused for now
 * (mailbox full, greylisting, delayed). `bounced`: an email refused for good (a hard bounce).
 * `complained`: the recipient marked the email as spam.
 */
export const DELIVERY_STATUSES = ['failed', 'soft-bounced', 'delivered', 'opened', 'bounced', 'complained'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * The order reports are applied in: a report moves a dispatch only to a higher rank. Providers
 * repeat reports and deliver them out of order, so a repeat changes nothing, a temporary failure
 * after a delivery is a late retry report (ignored), an open implies the delivery, a hard bounce
 * arrives after a relay's acceptance (a later `delivered` does not undo it), and a complaint is
 * the last word on a message.
 */
const RANK: Record<DeliveryStatus, number> = { failed: 1, 'soft-bounced': 1, delivered: 2, opened: 3, bounced: 4, complained: 5 };

export type ReportVerdict = { apply: true } | { apply: false; status: 'duplicate' | 'ignored'; reason: string };

/** Whether a report changes a dispatch whose delivery status is `current` (null: nothing reported yet). */
export function judgeReport(current: DeliveryStatus | null, reported: DeliveryStatus): ReportVerdict {
  if (current === reported) return { apply: false, status: 'duplicate', reason: `the dispatch is already ${current}` };
  if (current !== null && RANK[reported] <= RANK[current]) return { apply: false, status: 'ignored', reason: `the dispatch is already ${current}` };
  return { apply: true };
}

/** The touch a report writes. An SMS failure stays a `notice.delivered` with its status, as receipts always wrote it. */
export const REPORT_TOUCH = {
  failed: 'notice.delivered',
  'soft-bounced': 'notice.bounced',
  delivered: 'notice.delivered',
  opened: 'notice.opened',
  bounced: 'notice.bounced',
  complained: 'notice.complained',
} as const satisfies Record<DeliveryStatus, TouchKind>;

/** The custom argument every email carries for SendGrid (X-SMTPAPI): its events without `smtp-id` (open, spamreport) name the Message-ID by it. */
export const SENDGRID_MESSAGE_ID_ARG = 'dunningMessageId';

/** Why no more email goes to an address: it bounced for good, or its owner complained. */
export const ADDRESS_STATUSES = ['undeliverable', 'complained'] as const;
export type AddressStatus = (typeof ADDRESS_STATUSES)[number];

/** What a report means for the address the message went to, if anything. */
export function addressStatusAfter(status: DeliveryStatus): AddressStatus | null {
  if (status === 'bounced') return 'undeliverable';
  if (status === 'complained') return 'complained';
  return null;
}

/**
 * The key an email address is matched by: a hash of the address as mail systems compare it (case
 * and surrounding space do not matter), so the status table holds no address.
 */
export const addressKey = (address: string): string => createHash('sha256').update(address.trim().toLowerCase()).digest('hex');

/** Whose address it is: the debtor's, or a guarantor's for the letters sent to guarantors. */
export type AddressOwner = 'debtor' | 'guarantor';

const addressWhy = (status: AddressStatus, owner: AddressOwner): string =>
  status === 'undeliverable'
    ? `the ${owner}'s email address is undeliverable (it bounced for good)`
    : `the ${owner} marked our email as spam: no more email to that address`;

/** A notice step by email whose address is marked: go by SMS, or skip, with the reason. */
export type EmailNoticeRoute = { by: 'email' } | { by: 'sms'; reason: string } | { skip: string };

/** The channels a notice goes by, which a debtor may decline for reminders. */
export const NOTICE_CHANNELS = ['email', 'sms'] as const;
export type NoticeChannel = (typeof NOTICE_CHANNELS)[number];

const DECLINED: Record<NoticeChannel, string> = {
  email: 'the debtor asked for no reminders by email',
  sms: 'the debtor asked for no reminders by text message',
};

/**
 * Where an email notice goes when its address may be marked or the debtor declined email;
 * `fallback` is the step's, and it too must be a channel the debtor did not decline.
 */
export function routeEmailNotice(
  address: AddressStatus | null,
  fallback: 'sms' | undefined,
  hasPhone: boolean,
  declined: readonly NoticeChannel[] = [],
): EmailNoticeRoute {
  const why = address !== null ? addressWhy(address, 'debtor') : declined.includes('email') ? DECLINED.email : null;
  if (why === null) return { by: 'email' };
  if (!fallback) return { skip: `${why}; the step has no fallback channel` };
  if (!hasPhone) return { skip: `${why}; the fallback is SMS and the debtor has no phone number` };
  if (declined.includes('sms')) return { skip: `${why}; the fallback is SMS, which the debtor declined too` };
  return { by: 'sms', reason: why };
}

/** Why an SMS notice does not go (the debtor declined text messages), or null. */
export function smsNoticeDeclined(declined: readonly NoticeChannel[]): string | null {
  return declined.includes('sms') ? DECLINED.sms : null;
}

/** A letter step whose email to the debtor may not go: deliver by post, or skip, with the reason. */
export type LetterRoute = { deliver: ('email' | 'post')[]; rerouted?: string } | { skip: string };

/** How a letter is delivered when its recipient's address may be marked; `fallback` is the step's. */
export function routeLetter(
  address: AddressStatus | null,
  deliver: readonly ('email' | 'post')[],
  fallback: 'post' | undefined,
  owner: AddressOwner = 'debtor',
): LetterRoute {
  if (address === null || !deliver.includes('email')) return { deliver: [...deliver] };
  const why = addressWhy(address, owner);
  if (deliver.includes('post')) return { deliver: ['post'], rerouted: `${why}; the letter goes by post only` };
  if (fallback === 'post') return { deliver: ['post'], rerouted: `${why}; the letter goes by post, the step's fallback` };
  return { skip: `${why}; the letter goes by email only and the step has no fallback channel` };
}
