import { cleanupAll } from '../../support/cleanup';
import { FaultStack } from './fault-stack';
import { type FaultContext, runScenario, SCENARIO_TIMEOUT_MS, type ScenarioSpec } from './scenario';

/**
 * The life of one fault suite file: its own stack before the first scenario, everything stopped
 * and removed after the last (and by the exit handlers if the run dies first). `scenario`
 * registers one test: a scenario run under the fault, which passes when it found no violation.
 */
export function faultSuite(): {
  stack: () => FaultStack;
  scenario: (title: string, spec: ScenarioSpec, fault: (ctx: FaultContext) => Promise<void>) => void;
} {
  let stack: FaultStack | undefined;
  beforeAll(async () => {
    stack = await FaultStack.start();
  }, 180_000);
  afterAll(async () => {
    try {
      await stack?.stop();
    } finally {
      cleanupAll();
    }
  }, 120_000);
  const current = () => {
    if (!stack) throw new Error('the fault stack did not start');
    return stack;
  };
  return {
    stack: current,
    scenario: (title, spec, fault) =>
      it(
        title,
        async () => {
          const result = await runScenario(current(), spec, fault);
          expect(result.violations).toEqual([]);
        },
        SCENARIO_TIMEOUT_MS,
      ),
  };
}
