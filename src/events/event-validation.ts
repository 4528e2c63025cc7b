import { describeIssues, PROTO_REASON, protoKey } from '../common/zod-validation';
import { type DunningEvent, dataSchemas, envelopeSchema, EVENT_TYPES, type EventType, futureInstants } from '../domain/events';

type Detail = { field: string; reason: string };
export type Validated = { ok: true; event: DunningEvent } | { ok: false; id: string | null; error: string; details: Detail[] };

const isEventType = (type: string): type is EventType => (EVENT_TYPES as readonly string[]).includes(type);

/** Validates one event as of `now`; the error names every bad field ("data.invoice.currency: …"). */
export function validateEvent(raw: unknown, now: Date): Validated {
  const rawId = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : null;
  const proto = protoKey(raw);
  if (proto) return rejected(rawId, [{ field: proto, reason: PROTO_REASON }]);
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) return rejected(rawId, describeIssues(envelope.error.issues));
  const { type } = envelope.data;
  if (!isEventType(type)) {
    // Quoted back only in part: an error must stay small whatever was sent.
    const shown = type.length > 60 ? `${type.slice(0, 60)}…` : type;
    return rejected(rawId, [{ field: 'type', reason: `unknown event type "${shown}" (expected one of ${EVENT_TYPES.join(', ')})` }]);
  }
  const data = dataSchemas[type].safeParse(envelope.data.data);
  if (!data.success) return rejected(rawId, describeIssues(data.error.issues, 'data'));
  const event = { ...envelope.data, type, data: data.data } as DunningEvent;
  const future = futureInstants(event, now);
  if (future.length > 0) return rejected(rawId, future);
  return { ok: true, event };
}

function rejected(id: string | null, details: Detail[]): Validated {
  return { ok: false, id, details, error: details.map((detail) => `${detail.field}: ${detail.reason}`).join('; ') };
}
