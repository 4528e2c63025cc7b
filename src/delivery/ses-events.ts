import { z } from 'zod';
import type { DeliveryStatus } from '../domain/delivery-status';
import { type InboundReport, normalMessageId, providerInstant, providerText } from './inbound-report';

const recipients = z.array(z.object({ emailAddress: z.string().optional(), status: z.string().optional(), diagnosticCode: z.string().optional() })).optional();

/**
 * An SES notification (identity notifications: `notificationType`) or event (configuration set
 * event publishing: `eventType`), as the SNS message's `Message`; only the fields read here.
 */
const sesMessage = z.object({
  notificationType: z.string().optional(),
  eventType: z.string().optional(),
  mail: z.object({
    messageId: z.string().optional(),
    timestamp: z.string().optional(),
    headers: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
    commonHeaders: z.object({ messageId: z.string().optional() }).optional(),
  }),
  bounce: z
    .object({
      bounceType: z.string(),
      bounceSubType: z.string().optional(),
      bouncedRecipients: recipients,
      timestamp: z.string().optional(),
      feedbackId: z.string().optional(),
    })
    .optional(),
  complaint: z.object({ complaintFeedbackType: z.string().optional(), timestamp: z.string().optional(), feedbackId: z.string().optional() }).optional(),
  delivery: z.object({ timestamp: z.string().optional() }).optional(),
  open: z.object({ timestamp: z.string().optional() }).optional(),
  deliveryDelay: z.object({ delayType: z.string().optional(), timestamp: z.string().optional() }).optional(),
});

/**
 * The report an SES message makes: Bounce (Permanent: hard; Transient or Undetermined: soft),
 * Complaint, Delivery, Open, DeliveryDelay (soft). Other types (Send, Reject, Click…) make none.
 * Throws for a message that is not SES's JSON.
 */
export function sesReport(raw: string): InboundReport | null {
  const message = sesMessage.parse(JSON.parse(raw));
  const type = message.eventType ?? message.notificationType;
  const header = message.mail.headers?.find((h) => h.name.toLowerCase() === 'message-id')?.value;
  const messageId = normalMessageId(message.mail.commonHeaders?.messageId ?? header);
  const base = { messageId, providerMessageId: providerText(message.mail.messageId) };
  const made = (status: DeliveryStatus, at: string | undefined, eventId: string | undefined, detail: Record<string, unknown>): InboundReport => ({
    messageId: base.messageId,
    eventId: eventId ?? null,
    report: { status, at: providerInstant(at ?? message.mail.timestamp), providerMessageId: base.providerMessageId, detail, source: 'ses' },
  });
  switch (type) {
    case 'Bounce': {
      const bounce = message.bounce;
      if (!bounce) return null;
      const first = bounce.bouncedRecipients?.[0];
      return made(bounce.bounceType === 'Permanent' ? 'bounced' : 'soft-bounced', bounce.timestamp, bounce.feedbackId, {
        bounce: bounce.bounceType === 'Permanent' ? 'hard' : 'soft',
        bounceType: bounce.bounceType,
        bounceSubType: bounce.bounceSubType ?? null,
        smtpStatus: providerText(first?.status),
        diagnostic: providerText(first?.diagnosticCode),
      });
    }
    case 'Complaint':
      return made('complained', message.complaint?.timestamp, message.complaint?.feedbackId, {
        feedbackType: providerText(message.complaint?.complaintFeedbackType),
      });
    case 'Delivery':
      return made('delivered', message.delivery?.timestamp, undefined, {});
    case 'Open':
      return made('opened', message.open?.timestamp, undefined, {});
    case 'DeliveryDelay':
      return made('soft-bounced', message.deliveryDelay?.timestamp, undefined, { bounce: 'soft', delayType: providerText(message.deliveryDelay?.delayType) });
    default:
      return null;
  }
}
