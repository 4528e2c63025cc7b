import { addPeriod, guaranteeEndsOn, guaranteeStatus, isCalendarPeriod, isExpiring, limitationDate, restartLimitation } from './legal-clocks';

describe('limitation clock', () => {
  it('runs three years from the due date by default, keeping month ends in range', () => {
    expect(limitationDate('2026-11-01', 'P3Y')).toBe('2029-11-01');
    expect(limitationDate('2024-02-29', 'P3Y')).toBe('2027-02-28');
    expect(limitationDate('2026-11-01', 'P6Y')).toBe('2032-11-01');
  });

  it('restarts in full from a delivered demand or a signed acknowledgment', () => {
    expect(restartLimitation('2029-11-01', '2027-03-15', 'P3Y')).toEqual({ date: '2030-03-15', restarted: true });
    // A second restart runs from the later day again.
    const first = restartLimitation('2029-11-01', '2027-03-15', 'P3Y');
    expect(restartLimitation(first.date, '2029-01-10', 'P3Y')).toEqual({ date: '2032-01-10', restarted: true });
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

  it('ends six months after the due date by default', () => {
    expect(endsOn).toBe('2027-05-01');
    expect(addPeriod('2026-08-31', 'P6M')).toBe('2027-02-28');
  });

  it('is preserved by a notice delivered within the period, even after it ends', () => {
    expect(guaranteeStatus(endsOn, '2027-04-30', '2027-06-01', 30)).toBe('notified');
    expect(guaranteeStatus(endsOn, '2027-05-01', '2027-05-01', 30)).toBe('notified');
  });

  it('is running, then expiring near its end, then lapsed without a delivered notice', () => {
    expect(guaranteeStatus(endsOn, null, '2027-01-10', 30)).toBe('running');
    expect(guaranteeStatus(endsOn, null, '2027-04-01', 30)).toBe('expiring');
    expect(guaranteeStatus(endsOn, null, '2027-05-02', 30)).toBe('lapsed');
  });

  it('does not count a notice delivered after the period ended', () => {
    expect(guaranteeStatus(endsOn, '2027-05-02', '2027-05-03', 30)).toBe('lapsed');
  });
});
