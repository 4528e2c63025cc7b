import type { DataSource } from 'typeorm';
import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { ConfigError, loadConfig } from '../config/config.schema';
import { AgencyPlacementJob, AgencyWebhooks } from './agency-webhooks';

/** A queue that records what it was given, or refuses once when `refuse` is set. */
const queue = {
  added: [] as unknown[][],
  refuse: false,
  async addBulk(jobs: unknown[]) {
    if (this.refuse) {
      this.refuse = false;
      throw new Error('connection refused');
    }
    this.added.push(jobs);
    return [];
  },
};
/** The database is read only by `enqueuePending`, which these tests do not call. */
const webhooks = (env: Record<string, string>) => new AgencyWebhooks(queue as unknown as Queue<AgencyPlacementJob>, loadConfig(env), {} as DataSource);

describe('AgencyWebhooks', () => {
  // The refused enqueue logs a warning by design; keep the test output quiet.
  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => (queue.added = []));

  it('refuses to boot with a webhook URL but no secret, naming AGENCY_WEBHOOK_SECRET', () => {
    expect(() => webhooks({ AGENCY_WEBHOOK_URL: 'https://agency.example/hooks' })).toThrow(ConfigError);
    expect(() => webhooks({ AGENCY_WEBHOOK_URL: 'https://agency.example/hooks' })).toThrow(/AGENCY_WEBHOOK_SECRET/);
  });

  it('without a URL is disabled and enqueues nothing: the agency works from the CSV export', async () => {
    const sut = webhooks({});
    expect(sut.enabled).toBe(false);
    expect(await sut.enqueue(['p-1'])).toBe(0);
    expect(queue.added).toEqual([]);
  });

  it('enqueues one job per placement, the placement id as the job id, with retries', async () => {
    const sut = webhooks({ AGENCY_WEBHOOK_URL: 'https://agency.example/hooks', AGENCY_WEBHOOK_SECRET: 'a-secret-of-16-chars', STEP_ATTEMPTS: '4' });
    expect(await sut.enqueue(['p-1', 'p-2'])).toBe(2);
    expect(queue.added).toEqual([
      [
        expect.objectContaining({ data: { placementId: 'p-1' }, opts: expect.objectContaining({ jobId: 'p-1', attempts: 4, removeOnFail: false }) }),
        expect.objectContaining({ data: { placementId: 'p-2' }, opts: expect.objectContaining({ jobId: 'p-2' }) }),
      ],
    ]);
  });

  it('never throws when Redis refuses: the worker sweep enqueues pending placements later', async () => {
    const sut = webhooks({ AGENCY_WEBHOOK_URL: 'https://agency.example/hooks', AGENCY_WEBHOOK_SECRET: 'a-secret-of-16-chars' });
    queue.refuse = true;
    expect(await sut.enqueue(['p-1'])).toBe(0);
  });

  it.each([['0.25'], ['0'], ['0.1234']])('accepts the commission rate %s', (rate) => {
    expect(loadConfig({ AGENCY_COMMISSION_RATE: rate }).AGENCY_COMMISSION_RATE).toBe(rate);
  });

  it.each([['1'], ['0.12345'], ['25%'], ['.25']])('refuses the commission rate %s', (rate) => {
    expect(() => loadConfig({ AGENCY_COMMISSION_RATE: rate })).toThrow(/AGENCY_COMMISSION_RATE: must be a fraction below 1/);
  });
});
