import { faultSuite } from './harness/suite';

describe('no fault (the harness itself)', () => {
  const { scenario } = faultSuite();

  scenario('delivers every notice once, in time', { name: 'baseline', duplicates: 'none' }, async (ctx) => {
    await ctx.untilDelivered(0.3);
  });
});
