import {
  DEFAULT_SELF_SERVICE_BOUNDS,
  latestPlanStart,
  latestPromiseDate,
  monthlyInstalments,
  planOutOfBounds,
  promiseOutOfBounds,
  selfServiceBounds,
} from './self-service';

describe('self-service bounds', () => {
  const tight = selfServiceBounds({ promiseWithin: 'P14D', planMaxInstalments: 3 });

  it("takes the policy's parts and the defaults for the rest", () => {
    expect(selfServiceBounds(null)).toEqual(DEFAULT_SELF_SERVICE_BOUNDS);
    expect(tight).toEqual({ promiseWithin: 'P14D', planMaxInstalments: 3, planStartsWithin: 'P30D' });
  });

  it('counts calendar periods from today, a month end kept in range', () => {
    expect(latestPromiseDate('2026-03-10', tight)).toBe('2026-03-24');
    expect(latestPlanStart('2026-01-31', selfServiceBounds({ planStartsWithin: 'P1M' }))).toBe('2026-02-28');
  });

  it('refuses a promise past the latest day and says which day that is', () => {
    expect(promiseOutOfBounds('2026-03-24', '2026-03-10', tight)).toBeNull();
    expect(promiseOutOfBounds('2026-03-25', '2026-03-10', tight)).toBe('must be no later than 2026-03-24 (P14D from today)');
  });

  it('sends a plan of too many instalments, or starting too late, to a collector', () => {
    expect(planOutOfBounds(3, '2026-04-09', '2026-03-10', tight)).toBeNull();
    expect(planOutOfBounds(4, '2026-03-20', '2026-03-10', tight)).toBe('more than 3 instalments');
    expect(planOutOfBounds(2, '2026-04-10', '2026-03-10', tight)).toBe('the first instalment after 2026-04-09');
  });

  it('splits the balance into equal monthly parts, the odd minor units on the first', () => {
    expect(monthlyInstalments(125000n, 'EUR', 3, '2026-01-31')).toEqual([
      { dueDate: '2026-01-31', amount: '416.68' },
      { dueDate: '2026-02-28', amount: '416.66' },
      { dueDate: '2026-03-31', amount: '416.66' },
    ]);
  });
});
