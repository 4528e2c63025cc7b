import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRubric } from './rubric-file';

describe('loadRubric', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rubric-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const rule = (overrides: string) => `rules:
  - id: hours
    description: Within the hours.
    legalBasis: FDCPA 805(a)(1)
    weight: 20
    autofail: true
    touchKinds: [contact.recorded]
    check: {kind: contact-hours}
  - id: wording
    description: No threats.
    legalBasis: FDCPA 806
    weight: 20
    autofail: true
    touchKinds: [contact.recorded]
${overrides}
`;

  it('reads the shipped rubric: every check kind, zh-CN and en lists', () => {
    const rubric = loadRubric('qa.yaml');
    expect(new Set(rubric.rules.map((entry) => entry.check.kind))).toEqual(
      new Set([
        'contact-hours',
        'contact-caps',
        'no-contact-hold',
        'party-allowed',
        'disclosures',
        'forbidden-wording',
        'promise-follow-up',
        'dispute-answered',
        'record-complete',
      ]),
    );
    const wording = rubric.rules.find((entry) => entry.check.kind === 'forbidden-wording')!.check;
    expect(wording.kind === 'forbidden-wording' && Object.keys(wording.categories.threat!)).toEqual(['en', 'zh-CN']);
  });

  it('names the file, the rule and the field of a fault', () => {
    const bad = file('bad-check.yaml', rule('    check: {kind: forbidden-wording, categories: {threats: {en: [x]}}}'));
    expect(() => loadRubric(bad)).toThrow(`${bad}: rule wording: rules[1].check.categories: Unrecognized key: "threats"`);
    const weight = file(
      'weight.yaml',
      rule('    check: {kind: contact-hours}').replace(
        'weight: 20\n    autofail: true\n    touchKinds: [contact.recorded]\n    check: {kind: contact-hours}\n  - id: wording',
        'weight: 0\n    autofail: true\n    touchKinds: [contact.recorded]\n    check: {kind: contact-hours}\n  - id: wording',
      ),
    );
    expect(() => loadRubric(weight)).toThrow('rule hours: rules[0].weight: must be at least 1');
    const kind = file('kind.yaml', rule('    check: {kind: mood}'));
    expect(() => loadRubric(kind)).toThrow(/rule wording: rules\[1\]\.check\.kind: must have a kind/);
  });

  it('refuses a duplicate id, an unknown touch kind, a missing file and bad YAML', () => {
    expect(() => loadRubric(file('twice.yaml', rule('    check: {kind: contact-hours}').replace('id: wording', 'id: hours')))).toThrow(
      'rule hours: rules[1].id: hours is already a rule',
    );
    expect(() =>
      loadRubric(
        file(
          'touch.yaml',
          rule('    check: {kind: contact-hours}').replace(
            'touchKinds: [contact.recorded]\n    check: {kind: contact-hours}\n  - id: wording',
            'touchKinds: [fee.assessed]\n    check: {kind: contact-hours}\n  - id: wording',
          ),
        ),
      ),
    ).toThrow('rule hours: rules[0].touchKinds[0]: must be one of contact.recorded, notice.sent, letter.sent, promise.recorded');
    expect(() => loadRubric(join(dir, 'missing.yaml'))).toThrow(`${join(dir, 'missing.yaml')}: ENOENT`);
    expect(() => loadRubric(file('yaml.yaml', 'rules: [ {'))).toThrow(/yaml\.yaml: /);
  });
});
