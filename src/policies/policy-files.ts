import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { parse } from 'yaml';
import { describeIssues } from '../common/zod-validation';
import { type PolicyDefinition, policySchema } from '../domain/policy';

export class PolicyFileError extends Error {}

export interface PolicyFile {
  file: string;
  definition: PolicyDefinition;
  contentHash: string;
}

/** Reads and validates every *.yaml policy; any fault names the file and the field. */
export function readPolicyFiles(dir: string, hasTemplate: (channel: 'email' | 'sms', name: string) => boolean): PolicyFile[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((name) => /\.ya?ml$/.test(name))
      .sort();
  } catch (error) {
    throw new PolicyFileError(`POLICIES_DIR ${dir}: ${(error as Error).message}`);
  }
  if (names.length === 0) throw new PolicyFileError(`POLICIES_DIR ${dir}: no policy files (*.yaml)`);
  const files = names.map((name) => {
    const file = join(dir, name);
    let raw: unknown;
    try {
      raw = parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new PolicyFileError(`${file}: not valid YAML: ${(error as Error).message}`);
    }
    const result = policySchema.safeParse(raw);
    if (!result.success) {
      const faults = describeIssues(result.error.issues).map((issue) => `${issue.field}: ${issue.reason}`);
      throw new PolicyFileError(`${file}: ${faults.join('; ')}`);
    }
    result.data.steps.forEach((step, index) => {
      if (step.action === 'notice' && !hasTemplate(step.channel, step.template)) {
        throw new PolicyFileError(`${file}: steps[${index}].template: no ${step.channel} template "${step.template}" for every locale`);
      }
      if (step.action !== 'notice' || (!step.fallback && !step.fallbackTemplate)) return;
      if (step.channel !== 'email') throw new PolicyFileError(`${file}: steps[${index}].fallback: only an email notice has a fallback channel`);
      if (!step.fallback) throw new PolicyFileError(`${file}: steps[${index}].fallbackTemplate: needs "fallback: sms"`);
      const template = step.fallbackTemplate ?? step.template;
      if (!hasTemplate('sms', template)) {
        throw new PolicyFileError(
          `${file}: steps[${index}].${step.fallbackTemplate ? 'fallbackTemplate' : 'fallback'}: no sms template "${template}" for every locale`,
        );
      }
    });
    const contentHash = createHash('sha256')
      .update(canonicalize(result.data) ?? '')
      .digest('hex');
    return { file, definition: result.data, contentHash };
  });
  const keys = new Map<string, string>();
  for (const { file, definition } of files) {
    const other = keys.get(definition.key);
    if (other) throw new PolicyFileError(`${file}: key: "${definition.key}" is also the key of ${other}`);
    keys.set(definition.key, file);
  }
  const defaults = files.filter((entry) => entry.definition.default);
  if (defaults.length !== 1) {
    throw new PolicyFileError(`${dir}: exactly one policy must say "default: true" (found ${defaults.length})`);
  }
  return files;
}
