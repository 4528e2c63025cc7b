import { IANAZone } from 'luxon';

/** Checking a zone builds an Intl formatter (tens of µs); a service sees few distinct zones. */
const zoneValidity = new Map<string, boolean>();

/**
 * The zones PostgreSQL knows, read at boot: a zone that ICU accepts but the database does not
 * (US/Pacific-New) would be stored, then break every query that converts with it.
 */
let databaseZones: ReadonlySet<string> | null = null;

export function useDatabaseZones(names: Iterable<string>): void {
  databaseZones = new Set(names);
  zoneValidity.clear();
}

/** A zone both luxon (ICU) and, once read, PostgreSQL know. */
export function isTimeZone(zone: string): boolean {
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone) && (databaseZones === null || databaseZones.has(zone));
    if (zoneValidity.size < 1000) zoneValidity.set(zone, valid);
  }
  return valid;
}
