import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyFileError, readPolicyFiles } from './policy-files';

const REPO_POLICIES_DIR = './policies'; // the repository's, relative to the root Jest runs from
const anyTemplate = () => true;

const consumer = `
key: consumer
default: true
steps:
  - {at: P1D, action: notice, channel: email, template: reminder-friendly}
  - {at: P10D, action: letter, letter: payment-demand, deliver: [email, post]}
`;
const b2b = `
key: b2b
match: {segment: [b2b]}
steps:
  - {at: -P3D, action: notice, channel: email, template: reminder-firm}
  - {at: P45D, action: escalate, to: agency}
`;

function readError(dir: string, hasTemplate: (channel: 'email' | 'sms', name: string) => boolean = anyTemplate): PolicyFileError {
  try {
    readPolicyFiles(dir, hasTemplate);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyFileError);
    return error as PolicyFileError;
  }
  throw new Error(`readPolicyFiles accepted ${dir}`);
}

describe('readPolicyFiles', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'policy-files-spec-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, content: string) => writeFileSync(join(dir, name), content);

  it("loads the repository's ./policies directory", () => {
    const files = readPolicyFiles(REPO_POLICIES_DIR, anyTemplate);
    expect(files.map((file) => file.definition.key)).toEqual(['b2b-default', 'consumer-default']);
    expect(files.filter((file) => file.definition.default)).toHaveLength(1);
    for (const file of files) {
      expect(file.definition.steps.length).toBeGreaterThan(0);
      expect(file.contentHash).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('loads valid files in name order, with defaults applied', () => {
    write('b.yaml', consumer);
    write('a.yml', b2b);
    write('README.md', 'not a policy');
    const files = readPolicyFiles(dir, anyTemplate);
    expect(files.map((file) => file.file)).toEqual([join(dir, 'a.yml'), join(dir, 'b.yaml')]);
    expect(files[0]!.definition).toEqual({
      key: 'b2b',
      default: false,
      catchUp: 'from-first',
      match: { segment: ['b2b'] },
      steps: [
        { at: '-P3D', action: 'notice', channel: 'email', template: 'reminder-firm' },
        { at: 'P45D', action: 'escalate', to: 'agency' },
      ],
    });
    expect(files[1]!.definition.default).toBe(true);
  });

  it('gives the same content hash for the same definition written differently', () => {
    write('a.yaml', consumer);
    const [first] = readPolicyFiles(dir, anyTemplate);
    write(
      'a.yaml',
      `# a comment\nsteps:\n  - {action: notice, at: P1D, template: reminder-friendly, channel: email}\n  - {letter: payment-demand, at: P10D, action: letter, deliver: [email, post]}\ndefault: true\nkey: consumer\n`,
    );
    const [second] = readPolicyFiles(dir, anyTemplate);
    expect(second!.contentHash).toBe(first!.contentHash);
    write('a.yaml', consumer.replace('P10D', 'P11D'));
    const [third] = readPolicyFiles(dir, anyTemplate);
    expect(third!.contentHash).not.toBe(first!.contentHash);
  });

  it('names the file and steps[0].at for a bad duration', () => {
    write('a.yaml', consumer.replace('at: P1D', 'at: soon'));
    const error = readError(dir);
    expect(error.message).toContain(join(dir, 'a.yaml'));
    expect(error.message).toContain('steps[0].at');
  });

  it('names the file and the field for an unknown action', () => {
    write('a.yaml', consumer.replace('action: letter', 'action: phone'));
    const error = readError(dir);
    expect(error.message).toContain(join(dir, 'a.yaml'));
    expect(error.message).toContain('steps[1]');
  });

  it('names the file and the field for an unknown key in a step', () => {
    write('a.yaml', consumer.replace('template: reminder-friendly', 'template: reminder-friendly, colour: red'));
    const error = readError(dir);
    expect(error.message).toContain(join(dir, 'a.yaml'));
    expect(error.message).toContain('colour');
  });

  it('names the file, the step and the template when an email template is missing', () => {
    write('a.yaml', consumer);
    const error = readError(dir, (_channel, name) => name !== 'reminder-friendly');
    expect(error.message).toContain(join(dir, 'a.yaml'));
    expect(error.message).toContain('steps[0].template');
    expect(error.message).toContain('"reminder-friendly"');
  });

  it('asks for the template of each notice on its channel', () => {
    write('a.yaml', consumer);
    write('b.yaml', b2b);
    const asked: string[] = [];
    readPolicyFiles(dir, (channel, name) => {
      asked.push(`${channel}:${name}`);
      return true;
    });
    expect([...new Set(asked)].sort()).toEqual(['email:reminder-firm', 'email:reminder-friendly']);
  });

  it('refuses an SMS notice whose SMS template is missing, even when an email one exists', () => {
    write('a.yaml', consumer.replace('channel: email, template: reminder-friendly', 'channel: sms, template: email-only'));
    expect(readError(dir, (channel) => channel === 'email').message).toContain('no sms template "email-only"');
  });

  describe('fallback', () => {
    const withFallback = (extra: string) => consumer.replace('template: reminder-friendly}', `template: reminder-friendly, ${extra}}`);

    it('loads an email notice falling back to SMS with the same template, checking the SMS one exists', () => {
      write('a.yaml', withFallback('fallback: sms'));
      const asked: string[] = [];
      const [file] = readPolicyFiles(dir, (channel, name) => {
        asked.push(`${channel}:${name}`);
        return true;
      });
      expect(file!.definition.steps[0]).toMatchObject({ fallback: 'sms' });
      expect(asked).toContain('sms:reminder-friendly');
    });

    it('names the step when the fallback SMS template is missing', () => {
      write('a.yaml', withFallback('fallback: sms, fallbackTemplate: reminder-short'));
      const error = readError(dir, (channel, name) => channel === 'email' || name !== 'reminder-short');
      expect(error.message).toContain('steps[0].fallbackTemplate: no sms template "reminder-short"');
    });

    it('refuses post for a notice: a letter is not a notice', () => {
      write('a.yaml', withFallback('fallback: post'));
      expect(readError(dir).message).toMatch(/steps\[0\]\.fallback: must be sms: a notice cannot go by post/);
    });

    it('refuses a fallback on an SMS notice, and a fallback template without a fallback', () => {
      write('a.yaml', withFallback('fallback: sms').replace('channel: email', 'channel: sms'));
      expect(readError(dir).message).toContain('steps[0].fallback: only an email notice has a fallback channel');
      write('a.yaml', withFallback('fallbackTemplate: reminder-firm'));
      expect(readError(dir).message).toContain('steps[0].fallbackTemplate: needs "fallback: sms"');
    });

    it('lets a letter fall back to post only', () => {
      write('a.yaml', consumer.replace('deliver: [email, post]}', 'deliver: [email], fallback: post}'));
      expect(readPolicyFiles(dir, anyTemplate)[0]!.definition.steps[1]).toMatchObject({ fallback: 'post' });
      write('a.yaml', consumer.replace('deliver: [email, post]}', 'deliver: [email], fallback: sms}'));
      expect(readError(dir).message).toMatch(/steps\[1\]\.fallback: must be post/);
    });
  });

  it('rejects two defaults', () => {
    write('a.yaml', consumer);
    write('b.yaml', b2b.replace('key: b2b', 'key: b2b\ndefault: true'));
    expect(readError(dir).message).toMatch(/exactly one .*default.*found 2/);
  });

  it('rejects zero defaults', () => {
    write('b.yaml', b2b);
    expect(readError(dir).message).toMatch(/exactly one .*default.*found 0/);
  });

  it('rejects duplicate keys, naming both files', () => {
    write('a.yaml', consumer);
    write('b.yaml', b2b.replace('key: b2b', 'key: consumer'));
    const error = readError(dir);
    expect(error.message).toContain('"consumer"');
    expect(error.message).toContain(join(dir, 'a.yaml'));
    expect(error.message).toContain(join(dir, 'b.yaml'));
  });

  it('names a file that is not valid YAML', () => {
    write('a.yaml', consumer);
    write('broken.yaml', 'key: broken\nsteps: [ {at: P1D\n');
    const error = readError(dir);
    expect(error.message).toContain(join(dir, 'broken.yaml'));
    expect(error.message).toMatch(/not valid YAML/);
  });

  it('names an empty file', () => {
    write('a.yaml', consumer);
    write('empty.yaml', '');
    expect(readError(dir).message).toContain(join(dir, 'empty.yaml'));
  });

  it('rejects a policy without steps', () => {
    write('a.yaml', 'key: consumer\ndefault: true\nsteps: []\n');
    const error = readError(dir);
    expect(error.message).toContain('steps');
  });

  it('rejects a directory without policy files', () => {
    write('notes.txt', 'nothing here');
    expect(readError(dir).message).toMatch(/no policy files/);
  });

  it('rejects a directory that does not exist, naming it', () => {
    const missing = join(dir, 'missing');
    expect(readError(missing).message).toContain(missing);
  });

  it('ignores subdirectories that are not named *.yaml', () => {
    mkdirSync(join(dir, 'archive'));
    write('a.yaml', consumer);
    expect(readPolicyFiles(dir, anyTemplate)).toHaveLength(1);
  });
});
