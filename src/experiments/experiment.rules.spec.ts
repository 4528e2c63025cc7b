import { armOf, bucketOf, horizonProblem, replacements } from './experiment.rules';

describe('bucketOf', () => {
  it('is the first 48 bits of SHA-256 over the experiment and the debtor, as a fraction', () => {
    // sha256("exp-1\0DEB-1") starts 833af7b89842: 0x833af7b89842 / 2^48 = 0.51261852509…
    const sut = bucketOf('exp-1', 'DEB-1');
    expect(sut).toBe(0x833af7b89842 / 2 ** 48);
    expect(sut).toBe(bucketOf('exp-1', 'DEB-1'));
    expect(sut).not.toBe(bucketOf('exp-2', 'DEB-1'));
  });

  it('spreads debtors evenly enough that a share of 0.3 takes about 30 % of them', () => {
    const n = 20_000;
    const challengers = Array.from({ length: n }, (_, i) => armOf(bucketOf('spread', `DEB-${i}`), 0.3)).filter((arm) => arm === 'challenger').length;
    // Binomial(20000, 0.3): σ = √(20000 · 0.3 · 0.7) = 64.8; four σ is 259.
    expect(Math.abs(challengers - 6000)).toBeLessThan(259);
  });
});

describe('armOf', () => {
  it('gives the challenger the buckets below its share', () => {
    expect(armOf(0.29999, 0.3)).toBe('challenger');
    expect(armOf(0.3, 0.3)).toBe('champion');
    expect(armOf(0, 0.01)).toBe('challenger');
  });
});

describe('replacements', () => {
  it('sends the champion to the challenger', () => {
    expect(replacements([{ champion: 'a', challenger: 'b' }])).toEqual(new Map([['a', 'b']]));
  });

  it('keeps every replacement one hop when a challenger is promoted over in turn', () => {
    expect(
      replacements([
        { champion: 'a', challenger: 'b' },
        { champion: 'b', challenger: 'c' },
      ]),
    ).toEqual(
      new Map([
        ['a', 'c'],
        ['b', 'c'],
      ]),
    );
  });

  it('puts a replaced policy back in force when it is promoted again', () => {
    expect(
      replacements([
        { champion: 'a', challenger: 'b' },
        { champion: 'b', challenger: 'a' },
      ]),
    ).toEqual(new Map([['b', 'a']]));
  });
});

describe('horizonProblem', () => {
  it.each(['P60D', 'P8W', 'P2M', 'P1Y', 'PT12H', 'P1DT6H', 'P1096D'])('accepts %s', (period) => {
    expect(horizonProblem(period)).toBeNull();
  });

  it.each([
    ['60 days', /ISO-8601 period/],
    ['P', /ISO-8601 period/],
    ['PT', /ISO-8601 period/],
    ['P1.5D', /ISO-8601 period/],
    ['-P1D', /ISO-8601 period/],
    ['P0D', /longer than zero/],
    ['P4Y', /at most 1096 days/],
    ['P99999D', /ISO-8601 period/],
  ])('refuses %s', (period, reason) => {
    expect(horizonProblem(period)).toMatch(reason);
  });
});
