import {
  addPeriod,
  guaranteeEndsOn,
  guaranteeStatus,
  isCalendarPeriod,
  isExpiring,
  limitationDate,
  limitationStart,
  restartLimitation,
  rollToWorkday,
} from './legal-clocks';

describe('limitation clock', () => {
  const fromDay = (period: string) => ({ period, fromYearEnd: false });

  it('runs three years from the due date by default, keeping month ends in range', () => {
    expect(limitationDate('2026-11-01', fromDay('P3Y'))).toBe('2029-11-01');
    expect(limitationDate('2024-02-29', fromDay('P3Y'))).toBe('2027-02-28');
    expect(limitationDate('2026-11-01', fromDay('P6Y'))).toBe('2032-11-01');
    expect(limitationStart('2026-11-01', fromDay('P3Y'))).toBe('2026-11-02');
  });

  it('runs from the end of the due year where the law says so (BGB § 199)', () => {
    const german = { period: 'P3Y', fromYearEnd: true };
    expect(limitationDate('2026-03-15', german)).toBe('2029-12-31');
    expect(limitationDate('2026-12-31', german)).toBe('2029-12-31');
    expect(limitationStart('2026-03-15', german)).toBe('2027-01-01');
  });

  it('moves the last day of a period past rest days and holidays', () => {
    // 2026-10-01 to 07 is National Day: a period ending on the 3rd (a Saturday) ends on the 8th.
    const workdays = new Set(['2026-10-08', '2026-10-09']);
    expect(rollToWorkday('2026-10-03', (day) => workdays.has(day))).toBe('2026-10-08');
    expect(rollToWorkday('2026-10-09', (day) => workdays.has(day))).toBe('2026-10-09');
  });

  it('restarts in full from a delivered demand or a signed acknowledgment', () => {
    expect(restartLimitation('2029-11-01', '2027-03-15', 'P3Y')).toEqual({ date: '2030-03-15', restarted: true });
    // A second restart runs from the later day again.
    const first = restartLimitation('2029-11-01', '2027-03-15', 'P3Y');
    expect(restartLimitation(first.date, '2029-01-10', 'P3Y')).toEqual({ date: '2032-01-10', restarted: true });
  });

  it('does not revive a period that has run out', () => {
    expect(restartLimitation('2029-11-01', '2029-11-02', 'P3Y')).toEqual({ date: '2029-11-01', restarted: false });
    // The last day itself still interrupts.
    expect(restartLimitation('2029-11-01', '2029-11-01', 'P3Y')).toEqual({ date: '2032-11-01', restarted: true });
  });

  it('is never shortened by a restart dated earlier', () => {
    expect(restartLimitation('2030-03-15', '2026-12-01', 'P3Y')).toEqual({ date: '2030-03-15', restarted: false });
  });

  it('warns within the window before the date, including the day itself, and not after', () => {
    expect(isExpiring('2029-11-01', '2029-08-02', 90)).toBe(false);
    expect(isExpiring('2029-11-01', '2029-08-03', 90)).toBe(true);
    expect(isExpiring('2029-11-01', '2029-11-01', 90)).toBe(true);
    expect(isExpiring('2029-11-01', '2029-11-02', 90)).toBe(false);
  });

  it('accepts calendar periods only', () => {
    expect(isCalendarPeriod('P3Y')).toBe(true);
    expect(isCalendarPeriod('P6M')).toBe(true);
    expect(isCalendarPeriod('PT1H')).toBe(false);
    expect(isCalendarPeriod('P0D')).toBe(false);
    expect(isCalendarPeriod('3 years')).toBe(false);
  });
});

describe('guarantee clock', () => {
  const endsOn = guaranteeEndsOn('2026-11-01', 'P6M');
  const joint = (notifiedOn: string | null, suedOn: string | null = null) => ({ type: 'joint' as const, endsOn, notifiedOn, suedOn });
  const general = (notifiedOn: string | null, suedOn: string | null = null) => ({ type: 'general' as const, endsOn, notifiedOn, suedOn });

  it('ends six months after the due date by default', () => {
    expect(endsOn).toBe('2027-05-01');
    expect(addPeriod('2026-08-31', 'P6M')).toBe('2027-02-28');
  });

  it('preserves a joint guarantee by a notice delivered within the period, even after it ends (art. 693(2))', () => {
    expect(guaranteeStatus(joint('2027-04-30'), '2027-06-01')).toBe('claim-preserved');
    expect(guaranteeStatus(joint('2027-05-01'), '2027-05-01')).toBe('claim-preserved');
  });

  it('does not preserve a general guarantee by a notice: only a suit against the debtor does (art. 693(1))', () => {
    expect(guaranteeStatus(general('2027-04-30'), '2027-04-30')).toBe('notified');
    expect(guaranteeStatus(general('2027-04-30'), '2027-05-02')).toBe('lapsed');
    expect(guaranteeStatus(general(null, '2027-04-20'), '2027-06-01')).toBe('claim-preserved');
  });

  it('is in its period, then lapsed once it ends unpreserved', () => {
    expect(guaranteeStatus(joint(null), '2027-01-10')).toBe('in-period');
    expect(guaranteeStatus(joint(null), '2027-05-02')).toBe('lapsed');
  });

  it('does not count a notice delivered or a suit filed after the period ended', () => {
    expect(guaranteeStatus(joint('2027-05-02'), '2027-05-03')).toBe('lapsed');
    expect(guaranteeStatus(general(null, '2027-05-02'), '2027-05-03')).toBe('lapsed');
  });
});
