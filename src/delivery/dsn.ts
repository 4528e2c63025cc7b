import { simpleParser } from 'mailparser';
import type { DeliveryStatus } from '../domain/delivery-status';
import { type InboundReport, normalMessageId, providerInstant, providerText } from './inbound-report';

/** Why a raw message is not a delivery status notification we can read (a 400 naming the part). */
export class DsnRefusal extends Error {}

/** Header-style fields (RFC 5322 folding) of one block, by lower-case name; the first of a name wins. */
function fields(block: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const match = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (match && !found.has(match[1]!.toLowerCase())) found.set(match[1]!.toLowerCase(), match[2]!.trim());
  }
  return found;
}

/** The delivery-status body: the per-message block, then one block per recipient (RFC 3464 §2.1). */
function blocks(text: string): Map<string, string>[] {
  return text
    .split(/\r?\n[ \t]*\r?\n/)
    .map((block) => block.trim())
    .filter(Boolean)
    .map(fields);
}

/** RFC 3464 `Action` and RFC 3463 `Status`: failed with 5.x.x is a hard bounce, 4.x.x or delayed a soft one. */
function statusOf(action: string, status: string): DeliveryStatus | null {
  if (action === 'delivered' || action === 'relayed' || action === 'expanded') return 'delivered';
  if (action === 'delayed') return 'soft-bounced';
  if (action === 'failed') return status.startsWith('4.') ? 'soft-bounced' : 'bounced';
  return null;
}

/**
 * Reads an RFC 3464 delivery status notification (a multipart/report with report-type
 * delivery-status): the first recipient's Action and Status, and the Message-ID of the message it
 * reports on, from `Original-Message-ID` or the returned message or headers. Throws DsnRefusal
 * naming what is missing.
 */
export async function dsnReport(raw: Buffer): Promise<InboundReport | null> {
  const parsed = await simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
  const type = parsed.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  if (type?.value !== 'multipart/report' || type.params?.['report-type']?.toLowerCase() !== 'delivery-status') {
    throw new DsnRefusal('body: must be a multipart/report with report-type=delivery-status (RFC 3464)');
  }
  const statusPart = parsed.attachments.find((part) => part.contentType === 'message/delivery-status');
  if (!statusPart) throw new DsnRefusal('body: the report has no message/delivery-status part');
  const [perMessage, ...recipients] = blocks(statusPart.content.toString('utf8'));
  const recipient = recipients.find((block) => block.has('action'));
  if (!perMessage || !recipient) throw new DsnRefusal('body: the delivery-status part names no recipient with an Action');
  const action = recipient.get('action')!.toLowerCase();
  const smtpStatus = (recipient.get('status') ?? '').split(/\s/)[0]!;
  const status = statusOf(action, smtpStatus);
  if (!status) return null;
  const returned = parsed.attachments.find((part) => part.contentType === 'message/rfc822' || part.contentType === 'text/rfc822-headers');
  const returnedHeaders = returned ? fields(returned.content.toString('utf8').split(/\r?\n\r?\n/)[0] ?? '') : new Map<string, string>();
  const messageId = normalMessageId(perMessage.get('original-message-id') ?? recipient.get('original-message-id') ?? returnedHeaders.get('message-id'));
  const bounced = status !== 'delivered';
  return {
    messageId,
    eventId: normalMessageId(parsed.messageId),
    report: {
      status,
      at: providerInstant(recipient.get('last-attempt-date') ?? perMessage.get('arrival-date') ?? null),
      providerMessageId: null,
      detail: {
        action,
        ...(bounced ? { bounce: status === 'bounced' ? 'hard' : 'soft' } : {}),
        smtpStatus: providerText(smtpStatus),
        diagnostic: providerText(recipient.get('diagnostic-code')),
        reportingMta: providerText(perMessage.get('reporting-mta')),
      },
      source: 'dsn',
    },
  };
}
