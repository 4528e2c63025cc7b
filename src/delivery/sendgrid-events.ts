import { createPublicKey, verify } from 'node:crypto';
import { z } from 'zod';
import { type DeliveryStatus, SENDGRID_MESSAGE_ID_ARG } from '../domain/delivery-status';
import { type InboundReport, normalMessageId, providerInstant, providerText } from './inbound-report';

export const SENDGRID_SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const SENDGRID_TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';
export const MAX_SENDGRID_EVENTS = 1000;

/**
 * Verifies SendGrid's Event Webhook signature: ECDSA P-256 with SHA-256 over the timestamp header
 * followed by the raw body, base64 DER in the signature header. Returns the refusal, or null.
 */
export function sendgridRefusal(publicKey: string | undefined, signature: string | undefined, timestamp: string | undefined, body: Buffer): string | null {
  if (!publicKey) return 'no SendGrid verification key is configured (SENDGRID_WEBHOOK_PUBLIC_KEY)';
  if (!signature || !timestamp) return 'X-Twilio-Email-Event-Webhook-Signature and -Timestamp are required';
  const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
  const ok = verify('sha256', Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
  return ok ? null : 'the signature does not match the body';
}

/** One event of SendGrid's batch; only the fields read here (each event carries many more). */
const sendgridEvent = z.looseObject({
  event: z.string(),
  timestamp: z.number().optional(),
  'smtp-id': z.string().optional(),
  sg_event_id: z.string().optional(),
  sg_message_id: z.string().optional(),
  type: z.string().optional(),
  reason: z.string().optional(),
  status: z.string().optional(),
  response: z.string().optional(),
  [SENDGRID_MESSAGE_ID_ARG]: z.string().optional(),
});
export const sendgridBody = z.array(z.unknown()).min(1).max(MAX_SENDGRID_EVENTS);

/** What a drop means: SendGrid keeps its own suppression lists and names them in `reason`. */
function dropStatus(reason: string | undefined): DeliveryStatus {
  if (reason && /spam report/i.test(reason)) return 'complained';
  if (reason && /bounced address|invalid/i.test(reason)) return 'bounced';
  return 'soft-bounced';
}

/**
 * The report a SendGrid event makes: delivered, open, bounce (`type` bounce: hard; blocked: soft),
 * dropped (by its reason), deferred (soft), spamreport; others (processed, click…) make none.
 * Throws (a zod error) for an event without its `event` name.
 */
export function sendgridReport(raw: unknown): InboundReport | null {
  const event = sendgridEvent.parse(raw);
  const status = ((): DeliveryStatus | null => {
    switch (event.event) {
      case 'delivered':
        return 'delivered';
      case 'open':
        return 'opened';
      case 'bounce':
        return event.type === 'blocked' ? 'soft-bounced' : 'bounced';
      case 'dropped':
        return dropStatus(event.reason);
      case 'deferred':
        return 'soft-bounced';
      case 'spamreport':
        return 'complained';
      default:
        return null;
    }
  })();
  if (!status) return null;
  const bounced = status === 'bounced' || status === 'soft-bounced';
  return {
    messageId: normalMessageId(event['smtp-id'] ?? event[SENDGRID_MESSAGE_ID_ARG]),
    eventId: event.sg_event_id ?? null,
    report: {
      status,
      at: providerInstant(event.timestamp),
      providerMessageId: providerText(event.sg_message_id),
      detail: {
        event: event.event,
        ...(bounced ? { bounce: status === 'bounced' ? 'hard' : 'soft', bounceType: providerText(event.type) } : {}),
        ...(event.reason || event.response ? { diagnostic: providerText(event.reason ?? event.response) } : {}),
        ...(event.status ? { smtpStatus: providerText(event.status) } : {}),
      },
      source: 'sendgrid',
    },
  };
}
