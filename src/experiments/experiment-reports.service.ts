import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { NotFound } from '../common/errors';
import { contactsPerCure, rate } from '../domain/collection-figures';
import { formatMinorUnits } from '../domain/money';
import { type ArmFigures, type ArmSample, type Experiment, ExperimentRepository } from './experiment.repository';
import { ARMS, type VerdictAtAction } from './experiment.rules';
import { type Sample, sampleComplete, twoProportionTest, verdict } from './cure-rate-test.rules';

const NO_FIGURES = { cases: 0, cured: 0, attempts: 0, contacts: 0, messagesSent: 0, messagesDelivered: 0, qaFindings: 0, recovered: [] };

/**
 * The champion/challenger comparison: each arm's figures over its cases, and the z-test on the
 * cure rate over its debtors past the fixed horizon, with the verdict.
 */
@Injectable()
export class ExperimentReports {
  constructor(
    private readonly clock: Clock,
    private readonly experiments: ExperimentRepository,
  ) {}

  async report(id: string) {
    const experiment = await this.experiments.get(undefined, id);
    if (!experiment) throw new NotFound('experiment', id);
    return this.compare(experiment);
  }

  /** What a stop or promotion records it was decided on. */
  async verdictAtAction(experiment: Experiment): Promise<VerdictAtAction> {
    const { asOf, sampleComplete: complete, arms, cureRateTest, verdict: said } = await this.compare(experiment);
    const samples = Object.fromEntries(arms.map((arm) => [arm.arm, { debtors: arm.sample.debtors, cured: arm.sample.cured }]));
    return {
      asOf: asOf.toISOString(),
      sampleComplete: complete,
      outcome: said.outcome,
      text: said.text,
      samples: samples as VerdictAtAction['samples'],
      z: cureRateTest.z,
      pValue: cureRateTest.pValue,
    };
  }

  private async compare(experiment: Experiment) {
    const now = this.clock.now();
    const [figures, samples] = await Promise.all([this.experiments.figures(experiment.id), this.experiments.sample(experiment, now)]);
    const arms = ARMS.map((arm) => ({
      figures: figures.find((row) => row.arm === arm) ?? ({ arm, ...NO_FIGURES } satisfies ArmFigures),
      sample: samples.find((row) => row.arm === arm) ?? ({ arm, debtors: 0, pastHorizon: 0, cured: 0 } satisfies ArmSample),
    }));
    // The test's unit is the debtor past the horizon.
    const [champion, challenger] = arms.map(({ sample }): Sample => ({ debtors: sample.pastHorizon, cured: sample.cured })) as [Sample, Sample];
    const test = twoProportionTest(champion, challenger);
    return {
      experiment,
      asOf: now,
      arms: arms.map(({ figures: arm, sample }) => ({
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
        sample: {
          debtors: sample.pastHorizon,
          cured: sample.cured,
          cureRate: rate(sample.cured, sample.pastHorizon),
          notYetPastHorizon: sample.debtors - sample.pastHorizon,
        },
      })),
      sampleComplete: sampleComplete(champion, challenger, experiment.minSample),
      cureRateTest: {
        method: `two-proportion z-test (pooled), challenger minus champion, on debtors: each once, by their first case, cured within ${experiment.cureWithin}`,
        ...test,
      },
      verdict: verdict(champion, challenger, test, experiment.minSample),
    };
  }
}
