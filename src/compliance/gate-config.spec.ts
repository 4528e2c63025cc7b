import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveRules } from '../domain/contact-gate';
import { GateConfigError, loadGateConfig, loadHolidayOverrides } from './gate-config';

const REPO_FILE = './compliance.yaml'; // the repository's, relative to the root Jest runs from

const DEFAULT_BLOCK = `
default:
  windows:
    email: {from: "08:00", to: "21:00"}
    sms: {from: "08:00", to: "21:00"}
  contactDays: all-but-holidays
  caps: {emailPerDay: 1, smsPerDay: 3, contactsPerWeek: 7}
`;

describe('gate config', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gate-config-spec-'));
    file = join(dir, 'compliance.yaml');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function loadError(content: string): string {
    writeFileSync(file, content);
    try {
      loadGateConfig(file);
    } catch (error) {
      expect(error).toBeInstanceOf(GateConfigError);
      return (error as Error).message;
    }
    throw new Error(`loadGateConfig accepted:\n${content}`);
  }

  it("loads the repository's compliance.yaml", () => {
    const config = loadGateConfig(REPO_FILE);
    expect(config.default).toEqual({
      windows: { email: { from: '08:00', to: '21:00' }, sms: { from: '08:00', to: '21:00' } },
      contactDays: 'all-but-holidays',
      caps: { emailPerDay: 1, smsPerDay: 3, contactsPerWeek: 7 },
    });
    expect(Object.keys(config.jurisdictions).sort()).toEqual(['CN', 'DE', 'US']);
    expect(resolveRules(config, 'CN')).toEqual({
      windows: { email: { from: '08:00', to: '20:00' }, sms: { from: '08:00', to: '20:00' } },
      contactDays: 'workdays',
      caps: config.default.caps,
    });
    expect(resolveRules(config, 'US').windows.sms).toEqual({ from: '08:00', to: '21:00' });
    expect(loadHolidayOverrides(REPO_FILE)).toEqual([]);
  });

  it('lets jurisdictions and overrides be left out', () => {
    writeFileSync(file, DEFAULT_BLOCK);
    expect(loadGateConfig(file).jurisdictions).toEqual({});
    expect(loadHolidayOverrides(file)).toEqual([]);
  });

  it('reads unquoted times and dates as text', () => {
    writeFileSync(
      file,
      `${DEFAULT_BLOCK}
jurisdictions:
  CN: {windows: {sms: {from: 09:00, to: 20:00}}, caps: {smsPerDay: 2}}
holidayOverrides:
  - {country: CN, date: 2027-02-20, kind: workday, name: 春节调休}
`,
    );
    expect(loadGateConfig(file).jurisdictions).toEqual({ CN: { windows: { sms: { from: '09:00', to: '20:00' } }, caps: { smsPerDay: 2 } } });
    expect(loadHolidayOverrides(file)).toEqual([{ country: 'CN', date: '2027-02-20', kind: 'workday', name: '春节调休' }]);
  });

  describe('names the file and the field', () => {
    it('for a time that is not HH:mm', () => {
      const message = loadError(`${DEFAULT_BLOCK}\njurisdictions:\n  CN: {windows: {sms: {from: "8:00", to: "20:00"}}}\n`);
      expect(message).toBe(`${file}: jurisdictions.CN.windows.sms.from: must be HH:mm`);
    });

    it('for a window that does not start before it ends', () => {
      const message = loadError(`${DEFAULT_BLOCK}\njurisdictions:\n  US: {windows: {email: {from: "21:00", to: "08:00"}}}\n`);
      expect(message).toBe(`${file}: jurisdictions.US.windows.email: from (21:00) must be before to (08:00) on the same day`);
    });

    it('for caps that are not positive integers', () => {
      const message = loadError(DEFAULT_BLOCK.replace('smsPerDay: 3', 'smsPerDay: 0').replace('contactsPerWeek: 7', 'contactsPerWeek: 2.5'));
      expect(message).toContain(`${file}: `);
      expect(message).toContain('default.caps.smsPerDay: must be a positive integer');
      expect(message).toContain('default.caps.contactsPerWeek: must be a positive integer');
    });

    it('for a country that is not ISO 3166 alpha-2', () => {
      expect(loadError(`${DEFAULT_BLOCK}\njurisdictions:\n  cn: {contactDays: workdays}\n`)).toBe(
        `${file}: jurisdictions.cn: must be an ISO 3166 alpha-2 country code such as CN`,
      );
      expect(loadError(`${DEFAULT_BLOCK}\njurisdictions:\n  XX: {contactDays: workdays}\n`)).toContain('jurisdictions.XX: must be an ISO 3166');
      expect(loadError(`${DEFAULT_BLOCK}\nholidayOverrides:\n  - {country: CHN, date: "2027-01-01", kind: holiday, name: 元旦}\n`)).toContain(
        'holidayOverrides[0].country: must be an ISO 3166',
      );
    });

    it('for unknown contact days and misspelt fields', () => {
      expect(loadError(DEFAULT_BLOCK.replace('all-but-holidays', 'weekdays'))).toMatch(/default\.contactDays: /);
      expect(loadError(DEFAULT_BLOCK.replace('smsPerDay', 'smsPerday'))).toMatch(/default\.caps: .*smsPerday/);
    });

    it('for a missing default', () => {
      expect(loadError('jurisdictions: {}\n')).toMatch(new RegExp(`^${file}: default: `));
    });

    it('for holiday overrides', () => {
      const entry = (date: string, kind = 'holiday') => `  - {country: CN, date: "${date}", kind: ${kind}, name: 补假}\n`;
      expect(loadError(`${DEFAULT_BLOCK}\nholidayOverrides:\n${entry('2027-02-30')}`)).toBe(
        `${file}: holidayOverrides[0].date: must be a real calendar date (YYYY-MM-DD)`,
      );
      expect(loadError(`${DEFAULT_BLOCK}\nholidayOverrides:\n${entry('2027-02-01', 'off')}`)).toMatch(/holidayOverrides\[0\]\.kind: /);
      expect(loadError(`${DEFAULT_BLOCK}\nholidayOverrides:\n${entry('2027-02-01')}${entry('2027-02-01', 'workday')}`)).toBe(
        `${file}: holidayOverrides[1]: CN 2027-02-01 is already listed at holidayOverrides[0]`,
      );
    });

    it('for a file that is missing, not YAML or not a mapping', () => {
      expect(() => loadGateConfig(join(dir, 'absent.yaml'))).toThrow(new RegExp(`^${join(dir, 'absent.yaml')}: ENOENT`));
      expect(loadError('default: [unclosed\n')).toMatch(new RegExp(`^${file}: not valid YAML`));
      expect(loadError('- just a list\n')).toBe(`${file}: must be a mapping with default:, jurisdictions: and holidayOverrides:`);
    });
  });
});
