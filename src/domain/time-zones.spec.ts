import { isTimeZone, useDatabaseZones } from './time-zones';

describe('isTimeZone', () => {
  it('takes what ICU knows and, once the database has said, only what it knows too', () => {
    expect(isTimeZone('Mars/Base')).toBe(false);
    useDatabaseZones(['Europe/Berlin', 'Asia/Shanghai', 'UTC']);
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    // ICU still has this link; PostgreSQL's tzdata dropped it.
    expect(isTimeZone('US/Pacific-New')).toBe(false);
    useDatabaseZones(['Europe/Berlin', 'US/Pacific-New']);
    expect(isTimeZone('US/Pacific-New')).toBe(true);
    expect(isTimeZone('Asia/Shanghai')).toBe(false);
  });
});
