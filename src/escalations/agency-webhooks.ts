import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ConfigError } from '../config/config.schema';
import { stepJobOptions } from '../scheduling/queues';

export const WEBHOOKS_QUEUE = 'webhooks';
export const AGENCY_PLACEMENT_JOB = 'agency-placement';

/** A webhook job carries the placement's id only; the row is the truth (and the job id). */
export interface AgencyPlacementJob {
  placementId: string;
}

const ENQUEUE_TIMEOUT_MS = 5000;

/**
 * Queues the agency's placement webhooks. Present in every role: the API and the step worker both
 * place cases. Refuses to boot with a webhook URL but no secret: an unsigned webhook carrying
 * personal data must never go out.
 */
@Injectable()
export class AgencyWebhooks {
  private readonly logger = new Logger(AgencyWebhooks.name);
  private readonly jobOptions: JobsOptions;
  /** False without AGENCY_WEBHOOK_URL: placements are then 'none' and the agency uses the CSV export. */
  readonly enabled: boolean;

  constructor(
    @InjectQueue(WEBHOOKS_QUEUE) private readonly queue: Queue<AgencyPlacementJob>,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly dataSource: DataSource,
  ) {
    if (config.AGENCY_WEBHOOK_URL && !config.AGENCY_WEBHOOK_SECRET) {
      throw new ConfigError(
        'Invalid configuration:\n  AGENCY_WEBHOOK_SECRET: must be set when AGENCY_WEBHOOK_URL is set (the agency verifies every webhook with it)',
      );
    }
    this.enabled = Boolean(config.AGENCY_WEBHOOK_URL);
    // Same retry budget as steps; failed jobs stay visible on the dashboard.
    this.jobOptions = stepJobOptions(config);
  }

  /**
   * The webhooks' reconciler (run by the worker's maintenance): enqueues pending placements that
   * have no job, such as an enqueue lost to a Redis outage. Adding a job id that exists is a no-op.
   */
  async enqueuePending(): Promise<number> {
    if (!this.enabled) return 0;
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM agency_placements WHERE webhook_status = 'pending' ORDER BY placed_at LIMIT 1000`,
    );
    return this.enqueue(rows.map((row) => row.id));
  }

  /**
   * Enqueues one job per placement (job id = placement id, so adding twice is a no-op).
   * Never throws: the rows are committed and the worker's sweep enqueues what is still pending.
   */
  async enqueue(placementIds: readonly string[]): Promise<number> {
    if (!this.enabled || placementIds.length === 0) return 0;
    const jobs = placementIds.map((placementId) => ({ name: AGENCY_PLACEMENT_JOB, data: { placementId }, opts: { ...this.jobOptions, jobId: placementId } }));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.queue.addBulk(jobs),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
        }),
      ]);
      return jobs.length;
    } catch (error) {
      this.logger.warn(`could not enqueue ${jobs.length} agency webhook(s), the worker's sweep will: ${(error as Error).message}`);
      return 0;
    } finally {
      clearTimeout(timer);
    }
  }
}
