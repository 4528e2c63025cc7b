import { readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import { parse } from 'yaml';
import { z } from 'zod';
import { describeIssues } from '../common/zod-validation';
import type { GateConfig } from '../domain/contact-gate';
import type { HolidayOverride } from '../domain/holiday-calendar';

/**
 * compliance.yaml (COMPLIANCE_FILE): the gate's default rules, per-jurisdiction overrides and
 * the holiday override table. Read at boot; any fault names the file and the field.
 */

export class GateConfigError extends Error {}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
/** Two capital letters that ICU knows as a region ("ZZ", unknown, is refused too). */
export function isCountryCode(value: string): boolean {
  return /^[A-Z]{2}$/.test(value) && value !== 'ZZ' && regionNames.of(value) !== undefined;
}
const COUNTRY_MESSAGE = 'must be an ISO 3166 alpha-2 country code such as CN';
const country = z.string().refine(isCountryCode, COUNTRY_MESSAGE);

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;
const clock = z.string().regex(CLOCK, 'must be HH:mm');
/** A window's end may be 24:00, the end of the day. */
const END = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
const end = z.string().regex(END, 'must be HH:mm (or 24:00 for the end of the day)');
const window = z.strictObject({ from: clock, to: end }).superRefine((value, ctx) => {
  // zod runs this even when a time failed its own check: compare only well-formed times.
  if (CLOCK.test(value.from) && END.test(value.to) && value.from >= value.to) {
    ctx.addIssue({ code: 'custom', message: `from (${value.from}) must be before to (${value.to}) on the same day` });
  }
});
const windows = z.strictObject({ email: window, sms: window });
const contactDays = z.enum(['all-but-holidays', 'workdays', 'every-day']);
const capValue = z.number().int('must be a positive integer').positive('must be a positive integer');
const caps = z.strictObject({ emailPerDay: capValue, smsPerDay: capValue, contactsPerWeek: capValue });

const rules = z.strictObject({ windows, contactDays, caps });
const jurisdiction = z.strictObject({
  windows: windows.partial().optional(),
  contactDays: contactDays.optional(),
  caps: caps.partial().optional(),
});

const calendarDate = z
  .string()
  .refine((value) => /^\d{4}-\d{2}-\d{2}$/.test(value) && DateTime.fromISO(value, { zone: 'UTC' }).isValid, 'must be a real calendar date (YYYY-MM-DD)');
const holidayOverride = z.strictObject({
  country,
  date: calendarDate,
  kind: z.enum(['holiday', 'workday']),
  name: z.string().trim().min(1, 'must name the day').max(200),
});

export const gateFileSchema = z
  .strictObject({
    default: rules,
    jurisdictions: z.record(z.string(), jurisdiction).default({}),
    holidayOverrides: z.array(holidayOverride).default([]),
  })
  .superRefine((file, ctx) => {
    // Checked here rather than as a record key schema so that the message names the key.
    for (const code of Object.keys(file.jurisdictions)) {
      if (!isCountryCode(code)) ctx.addIssue({ code: 'custom', path: ['jurisdictions', code], message: COUNTRY_MESSAGE });
    }
    const seen = new Map<string, number>();
    file.holidayOverrides.forEach((entry, index) => {
      const id = `${entry.country} ${entry.date}`;
      const first = seen.get(id);
      if (first === undefined) seen.set(id, index);
      else ctx.addIssue({ code: 'custom', path: ['holidayOverrides', index], message: `${id} is already listed at holidayOverrides[${first}]` });
    });
  });
export type GateFile = z.output<typeof gateFileSchema>;

/** Reads and validates the whole file: the config and the overrides are checked together. */
export function readGateFile(file: string): GateFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new GateConfigError(`${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new GateConfigError(`${file}: not valid YAML: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new GateConfigError(`${file}: must be a mapping with default:, jurisdictions: and holidayOverrides:`);
  }
  const result = gateFileSchema.safeParse(raw);
  if (!result.success) {
    const faults = describeIssues(result.error.issues).map((issue) => `${issue.field}: ${issue.reason}`);
    throw new GateConfigError(`${file}: ${faults.join('; ')}`);
  }
  return result.data;
}

export function loadGateConfig(file: string): GateConfig {
  const { default: defaults, jurisdictions } = readGateFile(file);
  return { default: defaults, jurisdictions };
}

export function loadHolidayOverrides(file: string): HolidayOverride[] {
  return readGateFile(file).holidayOverrides;
}
