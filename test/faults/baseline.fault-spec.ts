import { runScenario } from './harness/scenario';
import { faultSuite } from './harness/suite';

describe('no fault (the harness itself)', () => {
  const suite = faultSuite();

  it('delivers every notice once', async () => {
    const result = await runScenario(suite.stack(), 'baseline', 'none', async (ctx) => {
      await ctx.untilDelivered(0.3);
    });
    expect(result.violations).toEqual([]);
  });
});
