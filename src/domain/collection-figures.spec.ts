import { contactsPerCure, rate } from './collection-figures';

describe('collection figures', () => {
  it('answers a rate as a fraction with four decimals, null over nothing', () => {
    expect([rate(1, 3), rate(2, 2), rate(0, 5), rate(0, 0)]).toEqual([0.3333, 1, 0, null]);
  });

  it('answers contacts per cure with two decimals, null without a cure', () => {
    expect([contactsPerCure(5, 3), contactsPerCure(0, 2), contactsPerCure(4, 0)]).toEqual([1.67, 0, null]);
  });
});
