import { IANAZone } from 'luxon';

/** Checking a zone builds an Intl formatter (tens of µs); a service sees few distinct zones. */
const zoneValidity = new Map<string, boolean>();

export function isTimeZone(zone: string): boolean {
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone);
    if (zoneValidity.size < 1000) zoneValidity.set(zone, valid);
  }
  return valid;
}
