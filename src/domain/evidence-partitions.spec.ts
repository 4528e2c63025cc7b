import {
  monthPartition,
  parseMonthPartition,
  partitionsAhead,
  partitionsBefore,
  periodMonths,
  retentionCutoff,
  retentionDecision,
  retentionProblem,
} from './evidence-partitions';

const at = (iso: string) => new Date(iso);

describe('month partitions', () => {
  it('names the UTC month an instant falls in, whatever the local zone of the moment', () => {
    expect(monthPartition('touches', at('2026-03-31T23:59:59.999Z'))).toEqual({
      table: 'touches',
      name: 'touches_2026_03',
      from: at('2026-03-01T00:00:00Z'),
      to: at('2026-04-01T00:00:00Z'),
    });
    // 01:00 in Berlin on April 1st is still March in UTC.
    expect(monthPartition('dispatches', at('2026-04-01T01:00:00+02:00')).name).toBe('dispatches_2026_03');
    expect(monthPartition('touches', at('2026-04-01T00:00:00Z')).name).toBe('touches_2026_04');
  });

  it('keeps this month and the months ahead, across a year end', () => {
    expect(partitionsAhead('touches', at('2026-11-15T12:00:00Z'), 3).map((partition) => partition.name)).toEqual([
      'touches_2026_11',
      'touches_2026_12',
      'touches_2027_01',
      'touches_2027_02',
    ]);
    expect(partitionsAhead('touches', at('2026-11-15T12:00:00Z'), 0)).toHaveLength(1);
  });

  it('reads a partition back from its name, and nothing else', () => {
    expect(parseMonthPartition('touches', 'touches_2027_02')).toEqual(monthPartition('touches', at('2027-02-10T00:00:00Z')));
    expect(parseMonthPartition('touches', 'touches_default')).toBeUndefined();
    expect(parseMonthPartition('touches', 'dispatches_2027_02')).toBeUndefined();
    expect(parseMonthPartition('touches', 'touches_2027_13')).toBeUndefined();
  });

  it('counts as past a cut-off only the months wholly before it, oldest first', () => {
    const months = ['2020-03-01', '2020-01-01', '2020-02-01'].map((day) => monthPartition('touches', at(`${day}T00:00:00Z`)));
    expect(partitionsBefore(months, at('2020-03-01T00:00:00Z')).map((partition) => partition.name)).toEqual(['touches_2020_01', 'touches_2020_02']);
    expect(partitionsBefore(months, at('2020-02-29T23:59:59Z')).map((partition) => partition.name)).toEqual(['touches_2020_01']);
  });
});

describe('retention', () => {
  const now = at('2031-06-15T10:00:00Z');

  it('takes periods of years and months only', () => {
    expect(periodMonths('P5Y')).toBe(60);
    expect(periodMonths('P6Y6M')).toBe(78);
    expect(periodMonths('P66M')).toBe(66);
    for (const bad of ['P5D', 'P1W', 'PT5H', 'P0Y', 'P', '5Y', 'P5Y1D']) expect(periodMonths(bad)).toBeUndefined();
    expect(retentionCutoff(now, 'P5Y')).toEqual(at('2026-06-15T10:00:00Z'));
  });

  it('refuses a setting below the legal minimum, naming both', () => {
    expect(retentionProblem('P4Y11M', 'P5Y')).toMatch(/P4Y11M keeps less than the legal minimum P5Y/);
    expect(retentionProblem('P5Y', 'P5Y')).toBeUndefined();
    expect(retentionProblem('keep', 'P5Y')).toBeUndefined();
    expect(retentionProblem('P5D', 'P5Y')).toMatch(/years and months/);
  });

  it("cuts at the table's retention, or at an earlier cut-off the operator gives", () => {
    expect(retentionDecision({ table: 'touches', now, retention: 'P6Y', legalMinimum: 'P5Y' })).toEqual({ cutoff: at('2025-06-15T10:00:00Z') });
    const before = at('2024-01-01T00:00:00Z');
    expect(retentionDecision({ table: 'touches', now, retention: 'P6Y', legalMinimum: 'P5Y', before })).toEqual({ cutoff: before });
  });

  it('refuses a run that keeps less than the legal minimum or the retention, or a table kept forever', () => {
    expect(retentionDecision({ table: 'touches', now, retention: 'P5Y', legalMinimum: 'P5Y', before: at('2028-01-01T00:00:00Z') })).toEqual({
      refused: { field: 'before', reason: expect.stringMatching(/legal minimum P5Y \(RETENTION_LEGAL_MINIMUM\): must be on or before 2026-06-15/) },
    });
    expect(retentionDecision({ table: 'dispatches', now, retention: 'P7Y', legalMinimum: 'P5Y', before: at('2025-01-01T00:00:00Z') })).toEqual({
      refused: { field: 'before', reason: expect.stringMatching(/RETENTION_DISPATCHES \(P7Y\): must be on or before 2024-06-15/) },
    });
    expect(retentionDecision({ table: 'touches', now, retention: 'keep', legalMinimum: 'P5Y' })).toEqual({
      refused: { field: 'table', reason: 'RETENTION_TOUCHES is keep: touches are kept forever' },
    });
  });
});
