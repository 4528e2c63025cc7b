/** E-mail addresses and international phone numbers, as SMTP and SMS providers quote them in errors. */
const ADDRESS = /[^\s<>@"'(),;:]+@[^\s<>@"'(),;:]+/g;
const PHONE = /\+\d[\d ()-]{5,18}\d/g;

/** Job payloads carry ids only, but a failure reason may quote the recipient: keep it off screens. */
export function redactContacts(text: string): string {
  return text.replace(ADDRESS, '[address]').replace(PHONE, '[phone]');
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
