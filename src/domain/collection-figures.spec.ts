import { contactsPerCure, rate } from './collection-figures';

describe('collection figures', () => {
  it('answers a rate as a fraction with four decimals, null over nothing', () => {
    expect([rate(1, 3), rate(2, 2), rate(0, 5), rate(0, 0)]).toEqual([0.3333, 1, 0, null]);
  });

  it("counts a person's attempts and the messages per cure, two decimals, null without a cure", () => {
    // (2 + 3) ÷ 3 = 1.666…
    expect([contactsPerCure(2, 3, 3), contactsPerCure(0, 0, 2), contactsPerCure(4, 1, 0)]).toEqual([1.67, 0, null]);
  });
});
