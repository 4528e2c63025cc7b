import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Duration } from 'luxon';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Rubric } from '../domain/quality';
import { loadRubric } from './rubric-file';

/** The rubric of QA_FILE, read once at boot (when the modules start, like the policy files): a bad file stops the process, named. */
@Injectable()
export class QaRubric implements OnModuleInit {
  private loaded?: Rubric;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleInit(): void {
    this.loaded = loadRubric(this.config.QA_FILE);
  }

  get rubric(): Rubric {
    if (!this.loaded) throw new Error('the QA rubric is read when the modules start');
    return this.loaded;
  }

  /** The longest follow-up period of the promise rules, or null when no rule judges promises. */
  promiseWithin(): string | null {
    const periods = this.rubric.rules.flatMap((rule) =>
      rule.check.kind === 'promise-follow-up' && rule.touchKinds.includes('promise.recorded') ? [rule.check.within] : [],
    );
    if (periods.length === 0) return null;
    return periods.reduce((longest, period) => (Duration.fromISO(period).as('seconds') > Duration.fromISO(longest).as('seconds') ? period : longest));
  }
}
