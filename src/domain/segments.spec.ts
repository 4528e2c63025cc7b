import { deriveSegment } from './segments';

describe('deriveSegment', () => {
  it('is wilful for a debtor flagged so, whatever the history', () => {
    expect(deriveSegment(true, false)).toBe('wilful');
    expect(deriveSegment(true, true)).toBe('wilful');
  });

  it('is repeat when the debtor had a case before, else first-time', () => {
    expect(deriveSegment(false, true)).toBe('repeat');
    expect(deriveSegment(false, false)).toBe('first-time');
  });
});
