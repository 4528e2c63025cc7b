import { type Webhook } from 'standardwebhooks';
import type { DeliveryWork } from './webhook.repository';

/**
 * The body an endpoint receives, in the Standard Webhooks shape `{type, timestamp, data}`: the
 * touch's kind, its time, and the touch itself with its id and its case's id. Nothing is added
 * to it: an endpoint learns no more of a debtor than the trail holds.
 */
export function webhookPayload(touch: DeliveryWork['touch']) {
  return {
    type: touch.kind,
    timestamp: touch.at,
    data: { id: touch.id, caseId: touch.caseId, kind: touch.kind, at: touch.at, actor: touch.actor, channel: touch.channel, data: touch.data },
  };
}

/** Standard Webhooks' message id header value for a delivery: the same on every retry and replay. */
export const webhookId = (deliveryId: string) => `msg_${deliveryId}`;

/** The Standard Webhooks headers of one attempt: the id, the attempt's time, and the signature of "<id>.<time>.<body>". */
export function standardHeaders(signer: Webhook, id: string, at: Date, body: string): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signer.sign(id, at, body) };
}
