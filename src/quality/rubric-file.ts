import { readFileSync } from 'node:fs';
import { Duration } from 'luxon';
import { parse } from 'yaml';
import { z } from 'zod';
import { describeIssues } from '../common/zod-validation';
import { DISCLOSURES, type Rubric, SCORED_KINDS, WORDING_CATEGORIES } from '../domain/quality';

/**
 * qa.yaml (QA_FILE): the quality rubric, read at boot. A fault stops the process naming the
 * file, the rule (by its id where it has one) and the field.
 */

export class RubricFileError extends Error {}

const phrase = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const phraseLists = z.record(z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'must be a locale such as en or zh-CN'), z.array(phrase).min(1, 'must list a phrase'));
const duration = z
  .string()
  .refine((value) => Duration.fromISO(value).isValid && Duration.fromISO(value).as('seconds') > 0, 'must be an ISO-8601 duration such as P1D');

const check = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('contact-hours') }),
    z.strictObject({ kind: z.literal('contact-caps'), callsPerDay: z.number().int().positive('must be a positive integer') }),
    z.strictObject({ kind: z.literal('no-contact-hold') }),
    z.strictObject({ kind: z.literal('party-allowed'), debtTerms: phraseLists }),
    z.strictObject({
      kind: z.literal('disclosures'),
      require: z.array(z.enum(DISCLOSURES, { error: `must be one of ${DISCLOSURES.join(', ')}` })).min(1, 'must name a disclosure'),
      phrases: z.partialRecord(z.enum(DISCLOSURES, { error: `must be one of ${DISCLOSURES.join(', ')}` }), phraseLists).default({}),
    }),
    z.strictObject({
      kind: z.literal('forbidden-wording'),
      categories: z.partialRecord(z.enum(WORDING_CATEGORIES, { error: `must be one of ${WORDING_CATEGORIES.join(', ')}` }), phraseLists),
    }),
    z.strictObject({ kind: z.literal('promise-follow-up'), within: duration }),
    z.strictObject({ kind: z.literal('dispute-answered') }),
    z.strictObject({ kind: z.literal('record-complete'), minNotes: z.number().int().min(1, 'must be at least 1') }),
  ],
  {
    error:
      'must have a kind: contact-hours, contact-caps, no-contact-hold, party-allowed, disclosures, forbidden-wording, promise-follow-up, dispute-answered or record-complete',
  },
);

const rule = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and hyphens'),
  description: z.string().trim().min(1, 'must not be empty'),
  legalBasis: z.string().trim().min(1, 'must name the law or policy the rule rests on'),
  weight: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100'),
  autofail: z.boolean(),
  touchKinds: z.array(z.enum(SCORED_KINDS, { error: `must be one of ${SCORED_KINDS.join(', ')}` })).min(1, 'must name a touch kind'),
  check,
});

const rubricFile = z.strictObject({ rules: z.array(rule).min(1, 'must list a rule') }).superRefine((file, ctx) => {
  const seen = new Set<string>();
  file.rules.forEach((entry, index) => {
    if (seen.has(entry.id)) ctx.addIssue({ code: 'custom', path: ['rules', index, 'id'], message: `${entry.id} is already a rule's id` });
    seen.add(entry.id);
  });
});

/** Reads and validates the rubric; a fault names the file, the rule and the field. */
export function loadRubric(file: string): Rubric {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new RubricFileError(`${file}: ${(error as Error).message}`);
  }
  const result = rubricFile.safeParse(raw);
  if (result.success) return result.data;
  const rules = (raw as { rules?: unknown } | null)?.rules;
  const faults = describeIssues(result.error.issues).map(({ field, reason }) => {
    // Name the rule by its id, where the file gives one: "rules[2] (threats)".
    const index = /^rules\[(\d+)\]/.exec(field)?.[1];
    const id = index !== undefined && Array.isArray(rules) ? (rules[Number(index)] as { id?: unknown } | undefined)?.id : undefined;
    return `${typeof id === 'string' ? `rule ${id}: ` : ''}${field}: ${reason}`;
  });
  throw new RubricFileError(`${file}: ${faults.join('; ')}`);
}
