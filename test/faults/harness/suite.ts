import { existsSync } from 'node:fs';
import { MAIN } from '../../support/service-process';
import { cleanupAll } from './cleanup';
import { FaultStack } from './fault-stack';

/**
 * The life of one fault suite file: its own stack before the first scenario, everything stopped
 * and removed after the last (and by the exit handlers if the run dies first).
 */
export function faultSuite(): { stack: () => FaultStack } {
  let stack: FaultStack | undefined;
  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build the service first (npx nest build)`);
    stack = await FaultStack.start();
  });
  afterAll(async () => {
    try {
      await stack?.stop();
    } finally {
      cleanupAll();
    }
  });
  return {
    stack: () => {
      if (!stack) throw new Error('the fault stack did not start');
      return stack;
    },
  };
}
