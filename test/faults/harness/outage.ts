/**
 * How long an outage lasts: the fault's own length, chosen by the scenario (a few RECONCILE_EVERY),
 * not a wait for something to happen. Everything the suite waits for is polled with a deadline.
 */
export function outageOf(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
