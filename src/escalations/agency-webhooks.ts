import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ConfigError } from '../config/config.schema';
import { OnSweep } from '../jobs/job-handlers';
import { JobName, SweepName } from '../jobs/job-names';
import { JobQueue } from '../jobs/job-queue.service';
import { PlacementRepository } from './placement.repository';

/**
 * Queues the agency's placement webhooks. Present in every role: the API and the step worker both
 * place cases. Refuses to boot with a webhook URL but no secret: an unsigned webhook carrying
 * personal data must never go out.
 */
@Injectable()
export class AgencyWebhooks {
  /** False without AGENCY_WEBHOOK_URL: placements are then 'none' and the agency uses the CSV export. */
  readonly enabled: boolean;

  constructor(
    private readonly jobs: JobQueue,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly placements: PlacementRepository,
  ) {
    if (config.AGENCY_WEBHOOK_URL && !config.AGENCY_WEBHOOK_SECRET) {
      throw new ConfigError(
        'Invalid configuration:\n  AGENCY_WEBHOOK_SECRET: must be set when AGENCY_WEBHOOK_URL is set (the agency verifies every webhook with it)',
      );
    }
    this.enabled = Boolean(config.AGENCY_WEBHOOK_URL);
  }

  /**
   * The webhooks' reconciler (a worker sweep): enqueues pending placements that have no job,
   * such as an enqueue lost to a Redis outage. Adding a job id that exists is a no-op.
   */
  @OnSweep(SweepName.AgencyWebhooks)
  async enqueuePending(): Promise<number> {
    if (!this.enabled) return 0;
    return this.enqueue(await this.placements.pendingIds(1000));
  }

  /**
   * Enqueues one job per placement (job id = placement id, so adding twice is a no-op).
   * Never throws: the rows are committed and the worker's sweep enqueues what is still pending.
   */
  async enqueue(placementIds: readonly string[]): Promise<number> {
    if (!this.enabled) return 0;
    return this.jobs.add(
      JobName.DeliverAgencyPlacement,
      placementIds.map((placementId) => ({ id: placementId, data: { placementId } })),
      "the worker's sweep",
    );
  }
}
