import { daysPastDue, planLadder, resolveDueAt, STAGE_DAYS, stageFor, stepDueAt } from './ladder';
import type { PolicyStep } from './policy';

const at = (iso: string) => new Date(iso);
const DAY = 86_400_000;

const notice = (offset: string, template = 'reminder-friendly'): PolicyStep => ({ at: offset, action: 'notice', channel: 'email', template });
const escalate = (offset: string): PolicyStep => ({ at: offset, action: 'escalate', to: 'collector' });

describe('ladder', () => {
  describe('resolveDueAt', () => {
    it('takes a date as due at the next local midnight in the debtor zone', () => {
      expect(resolveDueAt('2026-11-01', 'Asia/Shanghai')).toEqual(at('2026-11-01T16:00:00Z'));
    });

    it('resolves the same date differently in different zones', () => {
      expect(resolveDueAt('2026-11-01', 'UTC')).toEqual(at('2026-11-02T00:00:00Z'));
      expect(resolveDueAt('2026-11-01', 'Europe/Berlin')).toEqual(at('2026-11-01T23:00:00Z'));
    });

    describe('in America/New_York around DST', () => {
      it('uses EDT (-04:00) for the midnight before fall-back on 2026-11-01', () => {
        expect(resolveDueAt('2026-10-31', 'America/New_York')).toEqual(at('2026-11-01T04:00:00Z'));
      });

      it('uses EST (-05:00) for the midnight after fall-back', () => {
        expect(resolveDueAt('2026-11-01', 'America/New_York')).toEqual(at('2026-11-02T05:00:00Z'));
      });

      it('uses EST before and EDT after spring-forward on 2026-03-08', () => {
        expect(resolveDueAt('2026-03-07', 'America/New_York')).toEqual(at('2026-03-08T05:00:00Z'));
        expect(resolveDueAt('2026-03-08', 'America/New_York')).toEqual(at('2026-03-09T04:00:00Z'));
      });
    });

    it('handles month and year ends', () => {
      expect(resolveDueAt('2026-12-31', 'UTC')).toEqual(at('2027-01-01T00:00:00Z'));
      expect(resolveDueAt('2028-02-28', 'UTC')).toEqual(at('2028-02-29T00:00:00Z'));
    });

    it('takes an instant as is, whatever the debtor zone', () => {
      expect(resolveDueAt('2026-11-01T10:00:00+02:00', 'Asia/Shanghai')).toEqual(at('2026-11-01T08:00:00Z'));
      expect(resolveDueAt('2026-11-01T10:00:00Z', 'America/New_York')).toEqual(at('2026-11-01T10:00:00Z'));
    });
  });

  describe('stepDueAt', () => {
    it('keeps the wall-clock time across the Europe/Berlin DST change on 2026-10-25 (P1D = 25 hours)', () => {
      // 2026-10-24 10:00 CEST (+02:00) -> 2026-10-25 10:00 CET (+01:00)
      const dueAt = at('2026-10-24T08:00:00Z');
      const result = stepDueAt(dueAt, 'P1D', 'Europe/Berlin');
      expect(result).toEqual(at('2026-10-25T09:00:00Z'));
      expect(result.getTime() - dueAt.getTime()).toBe(25 * 3_600_000);
    });

    it('keeps local midnight across the DST change for a multi-day offset', () => {
      const dueAt = resolveDueAt('2026-10-20', 'Europe/Berlin'); // 2026-10-21 00:00 CEST
      expect(dueAt).toEqual(at('2026-10-20T22:00:00Z'));
      expect(stepDueAt(dueAt, 'P10D', 'Europe/Berlin')).toEqual(at('2026-10-30T23:00:00Z')); // 2026-10-31 00:00 CET
    });

    it('moves backwards for a negative offset -P3D', () => {
      expect(stepDueAt(at('2026-11-10T09:00:00Z'), '-P3D', 'UTC')).toEqual(at('2026-11-07T09:00:00Z'));
    });

    it('keeps the wall-clock time for -P3D across the DST change', () => {
      // 2026-10-27 10:00 CET -> 2026-10-24 10:00 CEST
      expect(stepDueAt(at('2026-10-27T09:00:00Z'), '-P3D', 'Europe/Berlin')).toEqual(at('2026-10-24T08:00:00Z'));
    });

    it('adds an exact number of seconds for PT30S', () => {
      expect(stepDueAt(at('2026-11-01T12:00:00Z'), 'PT30S', 'Europe/Berlin')).toEqual(at('2026-11-01T12:00:30Z'));
    });

    it('leaves the time unchanged for P0D', () => {
      expect(stepDueAt(at('2026-11-01T12:00:00Z'), 'P0D', 'UTC')).toEqual(at('2026-11-01T12:00:00Z'));
    });
  });

  describe('planLadder', () => {
    const dueAt = at('2026-11-02T00:00:00Z');
    const steps = [notice('-P3D'), notice('P1D'), notice('P7D', 'reminder-firm'), escalate('P19D')];

    it('plans every step at its offset with all steps pending when all are in the future', () => {
      const plan = planLadder(steps, dueAt, 'UTC', at('2026-10-20T00:00:00Z'));
      expect(plan.map((entry) => entry.dueAt)).toEqual([
        at('2026-10-30T00:00:00Z'),
        at('2026-11-03T00:00:00Z'),
        at('2026-11-09T00:00:00Z'),
        at('2026-11-21T00:00:00Z'),
      ]);
      expect(plan.map((entry) => entry.status)).toEqual(['pending', 'pending', 'pending', 'pending']);
      expect(plan.map((entry) => entry.index)).toEqual([0, 1, 2, 3]);
      expect(plan.map((entry) => entry.step)).toEqual(steps);
      expect(plan.every((entry) => entry.reason === undefined)).toBe(true);
    });

    it('keeps a single past-due step pending when only one step is due', () => {
      const plan = planLadder(steps, dueAt, 'UTC', at('2026-11-01T00:00:00Z'));
      expect(plan.map((entry) => entry.status)).toEqual(['pending', 'pending', 'pending', 'pending']);
    });

    it('latest: for a case opened late keeps only the latest past-due step pending and skips earlier past-due ones with a reason', () => {
      const plan = planLadder(steps, dueAt, 'UTC', at('2026-11-10T00:00:00Z'), 'latest');
      expect(plan.map((entry) => entry.status)).toEqual(['skipped', 'skipped', 'pending', 'pending']);
      expect(plan[0]!.reason).toEqual(expect.stringMatching(/before the due date no longer applies/));
      expect(plan[1]!.reason).toEqual(expect.stringMatching(/superseded/));
      expect(plan[2]!.reason).toBeUndefined();
      expect(plan[3]!.reason).toBeUndefined();
    });

    it('latest: counts a step due exactly now as past due', () => {
      const plan = planLadder(steps, dueAt, 'UTC', at('2026-11-09T00:00:00Z'), 'latest');
      expect(plan.map((entry) => entry.status)).toEqual(['skipped', 'skipped', 'pending', 'pending']);
    });

    it('latest: when every step is already due, keeps only the last one pending', () => {
      const plan = planLadder(steps, dueAt, 'UTC', at('2027-01-01T00:00:00Z'), 'latest');
      expect(plan.map((entry) => entry.status)).toEqual(['skipped', 'skipped', 'skipped', 'pending']);
    });

    it('latest: picks the latest past-due step by due time, not by position in the list', () => {
      const unordered = [notice('P7D', 'reminder-firm'), notice('P1D')];
      const plan = planLadder(unordered, dueAt, 'UTC', at('2026-11-20T00:00:00Z'), 'latest');
      expect(plan.map((entry) => entry.status)).toEqual(['pending', 'skipped']);
    });

    it('latest: keeps the latest past-due fee step as well: assessing the fee is not a contact', () => {
      const withFees: PolicyStep[] = [
        { at: 'P1D', action: 'fee' },
        notice('P1D'),
        { at: 'P7D', action: 'fee' },
        notice('P7D', 'reminder-firm'),
        escalate('P19D'),
      ];
      const plan = planLadder(withFees, dueAt, 'UTC', at('2026-11-10T00:00:00Z'), 'latest');
      expect(plan.map((entry) => entry.status)).toEqual(['skipped', 'skipped', 'pending', 'pending', 'pending']);
    });

    it('from-first: a late case starts with the first step due and keeps the ladder spacing from there', () => {
      // Opened 45 days after the due moment: P1D runs now, P7D six days later, P19D eighteen days later.
      const now = at('2026-12-17T00:00:00Z');
      const plan = planLadder(steps, dueAt, 'UTC', now);
      expect(plan.map((entry) => entry.status)).toEqual(['skipped', 'pending', 'pending', 'pending']);
      expect(plan[0]!.reason).toEqual(expect.stringMatching(/before the due date no longer applies/));
      expect(plan.slice(1).map((entry) => entry.dueAt)).toEqual([now, at('2026-12-23T00:00:00Z'), at('2027-01-04T00:00:00Z')]);
      expect(plan[1]!.rebasedFrom).toEqual(at('2026-11-03T00:00:00Z'));
    });

    it('from-first: steps sharing an offset stay together, and fee steps move with the ladder', () => {
      const ladder: PolicyStep[] = [notice('P1D'), { at: 'P10D', action: 'fee' }, notice('P10D', 'reminder-firm')];
      const now = at('2026-12-17T00:00:00Z');
      const plan = planLadder(ladder, dueAt, 'UTC', now);
      expect(plan.map((entry) => entry.dueAt)).toEqual([now, at('2026-12-26T00:00:00Z'), at('2026-12-26T00:00:00Z')]);
    });

    it('from-first: a single step already due runs now and leaves the rest where they were', () => {
      const now = at('2026-11-04T00:00:00Z');
      const plan = planLadder(steps, dueAt, 'UTC', now);
      expect(plan.map((entry) => entry.status)).toEqual(['skipped', 'pending', 'pending', 'pending']);
      expect(plan.slice(1).map((entry) => entry.dueAt)).toEqual([at('2026-11-03T00:00:00Z'), at('2026-11-09T00:00:00Z'), at('2026-11-21T00:00:00Z')]);
      expect(plan.every((entry) => entry.rebasedFrom === undefined)).toBe(true);
    });

    it('from-first: keeps the spacing in the debtor zone across a DST change', () => {
      // Due midnight in Berlin on 2026-10-20; opened 2026-11-20 at 10:00 local. P1D runs now; P7D six local days later at 10:00 CET.
      const berlinDue = resolveDueAt('2026-10-19', 'Europe/Berlin');
      const now = at('2026-11-20T09:00:00Z');
      const plan = planLadder([notice('P1D'), notice('P7D', 'reminder-firm')], berlinDue, 'Europe/Berlin', now);
      expect(plan.map((entry) => entry.dueAt)).toEqual([now, at('2026-11-26T09:00:00Z')]);
    });

    it('plans an empty ladder as empty', () => {
      expect(planLadder([], dueAt, 'UTC', at('2026-11-10T00:00:00Z'))).toEqual([]);
    });

    it('computes step times in the debtor zone', () => {
      const berlinDue = resolveDueAt('2026-10-20', 'Europe/Berlin');
      const plan = planLadder([notice('P10D')], berlinDue, 'Europe/Berlin', at('2026-10-01T00:00:00Z'));
      expect(plan[0]!.dueAt).toEqual(at('2026-10-30T23:00:00Z'));
    });
  });

  describe('stageFor', () => {
    it.each([
      [-3, 'upcoming'],
      [0, 'upcoming'],
      [1, 'early'],
      [5, 'early'],
      [6, 'middle'],
      [18, 'middle'],
      [19, 'late'],
      [28, 'late'],
      [29, 'severe'],
      [365, 'severe'],
    ])('%i days past due is %s', (days, stage) => {
      expect(stageFor(days)).toBe(stage);
    });

    it('agrees with STAGE_DAYS at every boundary', () => {
      for (const [stage, [from, to]] of Object.entries(STAGE_DAYS)) {
        if (Number.isFinite(from)) expect(stageFor(from)).toBe(stage);
        if (Number.isFinite(to)) expect(stageFor(to)).toBe(stage);
      }
    });
  });

  describe('daysPastDue', () => {
    const dueAt = at('2026-11-02T00:00:00Z');

    it('is 0 before the due moment', () => {
      expect(daysPastDue(dueAt, at('2026-10-01T00:00:00Z'), 'UTC')).toBe(0);
      expect(daysPastDue(dueAt, new Date(dueAt.getTime() - 1), 'UTC')).toBe(0);
    });

    it('is 1 from the due moment until 24 hours later', () => {
      expect(daysPastDue(dueAt, dueAt, 'UTC')).toBe(1);
      expect(daysPastDue(dueAt, new Date(dueAt.getTime() + DAY - 1), 'UTC')).toBe(1);
    });

    it.each([1, 5, 6, 18, 19, 28, 29])('is %i during the %i-th day after the due moment', (days) => {
      expect(daysPastDue(dueAt, new Date(dueAt.getTime() + (days - 1) * DAY), 'UTC')).toBe(days);
      expect(daysPastDue(dueAt, new Date(dueAt.getTime() + days * DAY - 1), 'UTC')).toBe(days);
    });

    it('counts local calendar days across the autumn DST change (a 25-hour day)', () => {
      // Due date 2026-10-24 in Berlin: due at local midnight starting 25 Oct, the day clocks go back.
      const berlinDue = resolveDueAt('2026-10-24', 'Europe/Berlin');
      expect(daysPastDue(berlinDue, at('2026-10-25T22:30:00Z'), 'Europe/Berlin')).toBe(1); // 23:30 local, still day 1
      expect(daysPastDue(berlinDue, at('2026-10-25T23:00:00Z'), 'Europe/Berlin')).toBe(2); // local midnight
    });

    it('counts local calendar days across the spring DST change (a 23-hour day)', () => {
      const berlinDue = resolveDueAt('2027-03-27', 'Europe/Berlin');
      expect(daysPastDue(berlinDue, at('2027-03-28T21:59:00Z'), 'Europe/Berlin')).toBe(1);
      expect(daysPastDue(berlinDue, at('2027-03-28T22:00:00Z'), 'Europe/Berlin')).toBe(2); // local midnight
    });

    it('counts a due instant in the afternoon as day 1 until local midnight', () => {
      const afternoon = at('2026-11-02T05:00:00Z'); // 18:00 in Auckland
      expect(daysPastDue(afternoon, at('2026-11-02T10:59:00Z'), 'Pacific/Auckland')).toBe(1); // 23:59 local
      expect(daysPastDue(afternoon, at('2026-11-02T11:00:00Z'), 'Pacific/Auckland')).toBe(2);
    });

    it.each([
      [0, 'upcoming'],
      [1, 'early'],
      [5, 'early'],
      [6, 'middle'],
      [18, 'middle'],
      [19, 'late'],
      [28, 'late'],
      [29, 'severe'],
    ])('with stageFor: %i days in puts the case in %s', (days, stage) => {
      const now = days === 0 ? new Date(dueAt.getTime() - 1) : new Date(dueAt.getTime() + (days - 1) * DAY + 3_600_000);
      expect(stageFor(daysPastDue(dueAt, now, 'UTC'))).toBe(stage);
    });
  });
});
