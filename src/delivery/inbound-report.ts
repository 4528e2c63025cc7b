import type { DeliveryReport } from '../channels/delivery-reports.service';
import { isStorable } from '../domain/text';

/** A provider's report as an adapter reads it: the Message-ID we sent (`<…>`, null when the event names none) and what happened. */
export interface InboundReport {
  messageId: string | null;
  /** The provider's own id of the event, for the logs and the touch. */
  eventId: string | null;
  report: DeliveryReport;
}

/** A Message-ID as we store it: one `<…>` token, or null. */
export function normalMessageId(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const id = value.trim().replace(/^<|>$/g, '');
  return id.length > 0 && id.length <= 300 && !/[\s<>]/.test(id) && isStorable(id) ? `<${id}>` : null;
}

/** A provider's free text for the touch: short, with any address in it removed (bounces echo the recipient). */
export function providerText(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const text = value
    .replace(/[^\s<>"'(),;:]+@[^\s<>"'(),;:]+/g, '…')
    .replace(/\p{Cc}+/gu, ' ')
    .trim();
  const short = text.length > 300 ? `${text.slice(0, 299)}…` : text;
  return isStorable(short) ? short : null;
}

/** An instant a provider gave, or null when it is missing or not one. */
export function providerInstant(value: unknown): Date | null {
  const at = typeof value === 'number' ? new Date(value * 1000) : typeof value === 'string' ? new Date(value) : null;
  // Within what PostgreSQL's timestamptz holds, and what a report can mean.
  return at && Number.isFinite(at.getTime()) && at.getUTCFullYear() >= 2000 && at.getUTCFullYear() <= 9999 ? at : null;
}
