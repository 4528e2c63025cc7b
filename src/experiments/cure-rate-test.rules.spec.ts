import { sampleComplete, twoProportionTest, twoSidedP, verdict } from './cure-rate-test.rules';

// Worked by hand: pooled p̂ = 450/2000 = 0.225, SE = √(0.225 · 0.775 · (1/1000 + 1/1000)) = 0.0186748,
// z = 0.05 / 0.0186748 = 2.67740; unpooled SE = √(0.2 · 0.8/1000 + 0.25 · 0.75/1000) = 0.0186414,
// CI = 0.05 ± 1.959964 · 0.0186414 = [0.013464, 0.086536]; p = erfc(2.67740/√2) = 0.0074196.
const champion = { debtors: 1000, cured: 200 };
const challenger = { debtors: 1000, cured: 250 };

describe('twoProportionTest', () => {
  it('gives z, the two-sided p-value and the 95 % interval of the difference for worked numbers', () => {
    const sut = twoProportionTest(champion, challenger);
    expect(sut.difference).toBeCloseTo(0.05, 12);
    expect(sut.z).toBeCloseTo(2.677398, 5);
    expect(sut.pValue).toBeCloseTo(0.0074196, 6);
    expect(sut.confidenceInterval!.low).toBeCloseTo(0.0134636, 6);
    expect(sut.confidenceInterval!.high).toBeCloseTo(0.0865364, 6);
  });

  it('is negative when the challenger cures less, with unequal arms', () => {
    // p₁ = 0.24, p₂ = 0.20, p̂ = 0.225: z = −0.04 / √(0.225 · 0.775 · (1/500 + 1/300)) = −1.311652.
    const sut = twoProportionTest({ debtors: 500, cured: 120 }, { debtors: 300, cured: 60 });
    expect(sut.z).toBeCloseTo(-1.311652, 5);
    expect(sut.pValue).toBeCloseTo(0.189638, 5);
    expect(sut.confidenceInterval!.low).toBeCloseTo(-0.0987379, 6);
    expect(sut.confidenceInterval!.high).toBeCloseTo(0.0187379, 6);
  });

  it('gives z = 0 and p = 1 for equal cure rates', () => {
    const sut = twoProportionTest({ debtors: 7000, cured: 1400 }, { debtors: 3000, cured: 600 });
    expect(sut.z).toBe(0);
    expect(sut.pValue).toBeCloseTo(1, 6);
  });

  it('has no z when every debtor or none is cured, and nothing without debtors', () => {
    expect(twoProportionTest({ debtors: 10, cured: 0 }, { debtors: 10, cured: 0 })).toMatchObject({ difference: 0, z: null, pValue: null });
    expect(twoProportionTest({ debtors: 0, cured: 0 }, { debtors: 10, cured: 2 })).toEqual({
      difference: null,
      z: null,
      pValue: null,
      confidenceInterval: null,
    });
  });
});

describe('twoSidedP', () => {
  it('matches the normal table', () => {
    expect(twoSidedP(1.959964)).toBeCloseTo(0.05, 6);
    expect(twoSidedP(-2.575829)).toBeCloseTo(0.01, 6);
    expect(twoSidedP(0)).toBeCloseTo(1, 6);
  });
});

describe('verdict', () => {
  it('names the challenger when it cures significantly more', () => {
    const sut = verdict(champion, challenger, twoProportionTest(champion, challenger), 100);
    expect(sut.outcome).toBe('challenger-better');
    expect(sut.text).toBe('The challenger cures more: challenger 25.0 % against champion 20.0 % (+5.0 points, p = 0.0074, significant at 5 %).');
  });

  it('names the champion when the challenger cures significantly less', () => {
    const sut = verdict(challenger, champion, twoProportionTest(challenger, champion), 100);
    expect(sut.outcome).toBe('champion-better');
  });

  it('calls no winner without a significant difference', () => {
    const [a, b] = [
      { debtors: 500, cured: 120 },
      { debtors: 300, cured: 60 },
    ];
    expect(verdict(a, b, twoProportionTest(a, b), 100).outcome).toBe('no-difference');
  });

  it('refuses to call a winner below the minimum sample, however large the difference', () => {
    const [a, b] = [
      { debtors: 99, cured: 10 },
      { debtors: 400, cured: 300 },
    ];
    const sut = verdict(a, b, twoProportionTest(a, b), 100);
    expect(sut).toEqual({
      outcome: 'insufficient-sample',
      text: 'Too early to call: the champion has 99 debtors past the horizon; each arm needs at least 100.',
    });
  });

  it('refuses with fewer than five cured cases in an arm', () => {
    const [a, b] = [
      { debtors: 1000, cured: 4 },
      { debtors: 1000, cured: 100 },
    ];
    expect(verdict(a, b, twoProportionTest(a, b), 100).outcome).toBe('insufficient-sample');
  });
});

describe('sampleComplete', () => {
  it('holds once each arm has its minimum of debtors past the horizon', () => {
    expect(sampleComplete({ debtors: 100, cured: 0 }, { debtors: 100, cured: 0 }, 100)).toBe(true);
    expect(sampleComplete({ debtors: 5000, cured: 0 }, { debtors: 99, cured: 0 }, 100)).toBe(false);
  });
});
