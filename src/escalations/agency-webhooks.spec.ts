import { ConfigError, loadConfig } from '../config/config.schema';
import { JobName } from '../jobs/job-names';
import type { JobQueue } from '../jobs/job-queue.service';
import { AgencyWebhooks } from './agency-webhooks';
import type { PlacementRepository } from './placement.repository';

/** A job queue that records what it was asked to add. */
const jobs = {
  added: [] as { name: JobName; jobs: unknown[] }[],
  async add(name: JobName, added: unknown[]) {
    this.added.push({ name, jobs: added });
    return added.length;
  },
};
/** The placements are read only by `enqueuePending`, which these tests do not call. */
const webhooks = (env: Record<string, string>) => new AgencyWebhooks(jobs as unknown as JobQueue, loadConfig(env), {} as PlacementRepository);

describe('AgencyWebhooks', () => {
  beforeEach(() => (jobs.added = []));

  it('refuses to boot with a webhook URL but no secret, naming AGENCY_WEBHOOK_SECRET', () => {
    expect(() => webhooks({ AGENCY_WEBHOOK_URL: 'https://agency.example/hooks' })).toThrow(ConfigError);
    expect(() => webhooks({ AGENCY_WEBHOOK_URL: 'https://agency.example/hooks' })).toThrow(/AGENCY_WEBHOOK_SECRET/);
  });

  it('without a URL is disabled and enqueues nothing: the agency works from the CSV export', async () => {
    const sut = webhooks({});
    expect(sut.enabled).toBe(false);
    expect(await sut.enqueue(['p-1'])).toBe(0);
    expect(jobs.added).toEqual([]);
  });

  it('enqueues one delivery job per placement, the placement id as the job id', async () => {
    const sut = webhooks({ AGENCY_WEBHOOK_URL: 'https://agency.example/hooks', AGENCY_WEBHOOK_SECRET: 'a-secret-of-16-chars' });
    expect(await sut.enqueue(['p-1', 'p-2'])).toBe(2);
    expect(jobs.added).toEqual([
      {
        name: JobName.DeliverAgencyPlacement,
        jobs: [
          { id: 'p-1', data: { placementId: 'p-1' } },
          { id: 'p-2', data: { placementId: 'p-2' } },
        ],
      },
    ]);
  });

  it.each([['0.25'], ['0'], ['0.1234']])('accepts the commission rate %s', (rate) => {
    expect(loadConfig({ AGENCY_COMMISSION_RATE: rate }).AGENCY_COMMISSION_RATE).toBe(rate);
  });

  it.each([['1'], ['0.12345'], ['25%'], ['.25']])('refuses the commission rate %s', (rate) => {
    expect(() => loadConfig({ AGENCY_COMMISSION_RATE: rate })).toThrow(/AGENCY_COMMISSION_RATE: must be a fraction below 1/);
  });
});
