import { setTimeout as delay } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { isDependencyDown } from '../common/errors';
import type { AppConfig } from '../config/app-config';

/** Outcomes this process holds until PostgreSQL answers again, for the metrics. */
export const outcomesAwaiting = { count: 0 };

const FIRST_PAUSE_MS = 100;
const LONGEST_PAUSE_MS = 5_000;

/**
 * Records what has already happened outside (a message the mail server accepted, a send it
 * refused) even across a PostgreSQL restart: while the database does not answer, the recording is
 * tried again, up to OUTCOME_PATIENCE, so the job neither fails nor retries meanwhile (a retry
 * would send the message again). Any other error is thrown at once.
 */
export class OutcomeKeeper {
  private readonly logger = new Logger(OutcomeKeeper.name);

  constructor(private readonly config: Pick<AppConfig, 'OUTCOME_PATIENCE'>) {}

  async keep<T>(what: string, record: () => Promise<T>): Promise<T> {
    const giveUpAt = Date.now() + this.config.OUTCOME_PATIENCE;
    let pause = FIRST_PAUSE_MS;
    let held = false;
    try {
      for (;;) {
        try {
          const recorded = await record();
          if (held) this.logger.log(`${what}: the kept outcome is recorded`);
          return recorded;
        } catch (error) {
          if (!isDependencyDown(error) || Date.now() + pause > giveUpAt) throw error;
          if (!held) {
            held = true;
            outcomesAwaiting.count++;
            this.logger.warn(`${what}: PostgreSQL does not answer (${(error as Error).message}); the outcome is kept and recorded when it does`);
          }
          await delay(pause);
          pause = Math.min(pause * 2, LONGEST_PAUSE_MS);
        }
      }
    } finally {
      if (held) outcomesAwaiting.count--;
    }
  }
}
