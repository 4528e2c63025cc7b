/** E-mail addresses and international phone numbers, as SMTP and SMS providers quote them in errors. */
const ADDRESS = /[^\s<>@"'(),;:]+@[^\s<>@"'(),;:]+/g;
const PHONE = /\+\d[\d ()-]{5,18}\d/g;
/** The service's own Message-IDs (`<dispatch uuid@domain>`) look like addresses, but name no one. */
const MESSAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}@/i;

/**
 * Job payloads carry ids only, but a failure reason may quote the recipient: keep it off screens.
 * A Message-ID stays: the runbook has operators look it up in the mail server's log.
 */
export function redactContacts(text: string): string {
  return text.replace(ADDRESS, (match) => (MESSAGE_ID.test(match) ? match : '[address]')).replace(PHONE, '[phone]');
}

/** The same value with every string in it redacted (a board API answer, a job listing). */
export function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redactContacts(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  // Plain objects only: anything else (a Date, a Buffer) is passed through as it is.
  const prototype: unknown = value && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (value && typeof value === 'object' && (prototype === Object.prototype || prototype === null))
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, redactDeep(entry)]));
  return value;
}
