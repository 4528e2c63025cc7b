import type { INestApplication } from '@nestjs/common';
import { Clock } from '../../src/common/clock';

/** Moves the app's one clock to a fixed moment (every service reads "now" from it) until restored. */
export const FixedClock = {
  install(app: INestApplication, at: Date): { restore(): void } {
    const clock = app.get(Clock);
    const own = Object.getOwnPropertyDescriptor(clock, 'now');
    clock.now = () => new Date(at);
    return {
      restore: () => {
        if (own) Object.defineProperty(clock, 'now', own);
        else delete (clock as { now?: unknown }).now;
      },
    };
  },
};
