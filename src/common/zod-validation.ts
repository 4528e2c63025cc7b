import type { z } from 'zod';
import { ValidationFailed } from './errors';

/** Maps zod issues to {field, reason} pairs, the field as a dotted path ("data.invoice.currency"). */
export function describeIssues(issues: z.core.$ZodIssue[], prefix = ''): { field: string; reason: string }[] {
  return issues.map((issue) => {
    const path = issue.path
      .map((part) => (typeof part === 'number' ? `[${part}]` : String(part)))
      .join('.')
      .replace(/\.\[/g, '[');
    const field = [prefix, path].filter(Boolean).join('.') || prefix || 'body';
    return { field, reason: issue.message };
  });
}

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationFailed(describeIssues(result.error.issues, prefix));
  return result.data;
}
