import { contactRefusal, guardStep } from './step-guard';

const now = new Date('2026-03-02T09:00:00Z');
const step = (overrides: Partial<Parameters<typeof guardStep>[0] & object> = {}) => ({
  status: 'pending' as const,
  dueAt: now,
  caseStatus: 'active' as const,
  ...overrides,
});

describe('guardStep', () => {
  it('lets a due step of an active case act', () => {
    expect(guardStep(step(), now)).toEqual({ kind: 'act' });
  });

  it('leaves a step that no longer exists', () => {
    expect(guardStep(undefined, now)).toEqual({ kind: 'missing' });
  });

  it.each(['done', 'skipped', 'cancelled'] as const)('leaves a %s step alone: a rerun changes nothing', (status) => {
    expect(guardStep(step({ status }), now)).toEqual({ kind: 'settled', status });
  });

  it.each(['resolved', 'cancelled', 'written_off', 'closed'] as const)('cancels the step of a %s case', (caseStatus) => {
    expect(guardStep(step({ caseStatus }), now)).toEqual({ kind: 'cancel', reason: `case ${caseStatus}` });
  });

  it('lets the step of a held case wait', () => {
    expect(guardStep(step({ caseStatus: 'on_hold' }), now)).toEqual({ kind: 'held' });
  });

  it('sends a step found more than a second early back to wait, and tolerates less', () => {
    const later = new Date(now.getTime() + 1001);
    expect(guardStep(step({ dueAt: later }), now)).toEqual({ kind: 'early', notBefore: later });
    expect(guardStep(step({ dueAt: new Date(now.getTime() + 1000) }), now)).toEqual({ kind: 'act' });
  });

  it.each(['running', 'deferred', 'failed'] as const)('lets a %s step act again', (status) => {
    expect(guardStep(step({ status }), now)).toEqual({ kind: 'act' });
  });
});

describe('contactRefusal', () => {
  const debtor = { ceaseContact: false, deceased: false, bankrupt: false };

  it('refuses nothing for a debtor without flags', () => {
    expect(contactRefusal(debtor)).toBeNull();
  });

  it('names the flag, cease-contact first', () => {
    expect(contactRefusal({ ...debtor, ceaseContact: true, deceased: true })).toBe('debtor asked to cease contact');
    expect(contactRefusal({ ...debtor, deceased: true })).toBe('debtor reported deceased');
    expect(contactRefusal({ ...debtor, bankrupt: true })).toBe('debtor bankrupt');
  });
});
