import { OutcomeKeeper, outcomesAwaiting } from './outcome-keeper';

const restarting = () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

describe('OutcomeKeeper', () => {
  const keeper = new OutcomeKeeper({ OUTCOME_PATIENCE: 60_000 });

  it('tries the recording again while PostgreSQL does not answer, and resolves once it does', async () => {
    let tries = 0;
    let awaitingMeanwhile = 0;
    const recorded = await keeper.keep('test', async () => {
      tries++;
      awaitingMeanwhile = Math.max(awaitingMeanwhile, outcomesAwaiting.count);
      if (tries < 3) throw restarting();
      return 'recorded';
    });
    expect(recorded).toBe('recorded');
    expect(tries).toBe(3);
    expect(awaitingMeanwhile).toBe(1);
    expect(outcomesAwaiting.count).toBe(0);
  });

  it('throws any other error at once: a refused statement is not an outage', async () => {
    let tries = 0;
    const refused = Object.assign(new Error('duplicate key'), { code: '23505' });
    await expect(
      keeper.keep('test', async () => {
        tries++;
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(tries).toBe(1);
  });

  it('gives up after OUTCOME_PATIENCE with the outage error, and holds nothing after', async () => {
    const impatient = new OutcomeKeeper({ OUTCOME_PATIENCE: 1 });
    await expect(impatient.keep('test', () => Promise.reject(restarting()))).rejects.toMatchObject({ code: '57P01' });
    expect(outcomesAwaiting.count).toBe(0);
  });
});
