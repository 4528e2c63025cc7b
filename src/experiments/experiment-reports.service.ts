import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { NotFound } from '../common/errors';
import { contactsPerCure, rate } from '../domain/collection-figures';
import { formatMinorUnits } from '../domain/money';
import { type ArmFigures, ExperimentRepository } from './experiment.repository';
import { ARMS } from './experiment.rules';
import { twoProportionTest, verdict } from './cure-rate-test.rules';

/** The champion/challenger comparison: each arm's figures, the z-test on the cure rate, and the verdict. */
@Injectable()
export class ExperimentReports {
  constructor(
    private readonly clock: Clock,
    private readonly experiments: ExperimentRepository,
  ) {}

  async report(id: string) {
    const experiment = await this.experiments.get(undefined, id);
    if (!experiment) throw new NotFound('experiment', id);
    const figures = await this.experiments.figures(id);
    const [champion, challenger] = ARMS.map(
      (arm): ArmFigures =>
        figures.find((row) => row.arm === arm) ?? {
          arm,
          cases: 0,
          cured: 0,
          attempts: 0,
          contacts: 0,
          messagesSent: 0,
          messagesDelivered: 0,
          qaFindings: 0,
          recovered: [],
        },
    ) as [ArmFigures, ArmFigures];
    const test = twoProportionTest(champion, challenger);
    return {
      experiment,
      asOf: this.clock.now(),
      arms: [champion, challenger].map((arm) => ({
        arm: arm.arm,
        policy: arm.arm === 'champion' ? experiment.champion : experiment.challenger,
        cases: arm.cases,
        cured: arm.cured,
        cureRate: rate(arm.cured, arm.cases),
        recovered: arm.recovered.map(({ currency, amountMinor }) => ({
          currency,
          amount: formatMinorUnits(amountMinor, currency),
          amountMinor: amountMinor.toString(),
        })),
        attempts: arm.attempts,
        contacts: arm.contacts,
        messagesSent: arm.messagesSent,
        messagesDelivered: arm.messagesDelivered,
        contactsPerCure: contactsPerCure(arm.attempts, arm.messagesSent, arm.cured),
        qaFindings: arm.qaFindings,
      })),
      cureRateTest: { method: 'two-proportion z-test (pooled), challenger minus champion', ...test },
      verdict: verdict(champion, challenger, test, experiment.minSample),
    };
  }
}
