import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { Tx } from '../database/transactions';
import type { LockedCase } from '../domain/case';
import { HOLD_EFFECTS, type HoldKind, LEGAL_HANDLING } from '../domain/holds';
import type { QueueEffects } from '../domain/step';
import type { TouchInput } from '../domain/touch-kinds';
import { EscalationService } from '../escalations/escalation.service';
import { StepRepository } from '../scheduling/step.repository';
import { CaseRepository } from './case.repository';
import { HoldRepository } from './hold.repository';

/** Places and releases holds on a locked case, pausing and resuming its ladder (see domain/holds.ts). */
@Injectable()
export class CaseHolds {
  constructor(
    private readonly clock: Clock,
    private readonly escalations: EscalationService,
    private readonly cases: CaseRepository,
    private readonly holds: HoldRepository,
    private readonly steps: StepRepository,
  ) {}

  async place(
    tx: Tx,
    kase: LockedCase,
    kind: HoldKind,
    reason: string,
    actor: string,
    effects: QueueEffects,
  ): Promise<{ holdId: string; touches: TouchInput[] }> {
    const now = this.clock.now();
    const holdId = randomUUID();
    await this.holds.insert(tx, { id: holdId, caseId: kase.id, kind, reason, at: now, by: actor });
    if (HOLD_EFFECTS[kind] === 'pause' && kase.status === 'active') {
      await this.cases.hold(tx, kase.id, now);
      kase.status = 'on_hold';
      effects.withdraw.push(...(await this.steps.waitingIds(tx, kase.id)));
    }
    const touches: TouchInput[] = [{ kind: 'hold.placed', actor, data: { holdId, kind, reason, effect: HOLD_EFFECTS[kind] } }];
    const handling = LEGAL_HANDLING[kind];
    if (handling) touches.push(...(await this.escalations.escalate(tx, kase, 'legal', actor, { reason: `${handling} (${reason})` })).touches);
    return { holdId, touches };
  }

  /**
   * Releases holds (those named, or every open one of the given kinds). When no pausing hold
   * remains the case is active again and its waiting steps move later by the time it was held,
   * so the debtor does not get every missed notice at once. Returns no touch when nothing was open.
   */
  async release(
    tx: Tx,
    kase: LockedCase,
    which: { holdIds: readonly string[] } | { kinds: readonly HoldKind[] },
    reason: string,
    actor: string,
    effects: QueueEffects,
  ): Promise<TouchInput[]> {
    const now = this.clock.now();
    const released = await this.holds.release(tx, kase.id, which, now, actor);
    if (released.length === 0) return [];
    const { remaining, heldSince } = await this.holds.pausing(tx, kase.id);
    const pausedMs = heldSince ? now.getTime() - heldSince.getTime() : 0;
    let resumed = 0;
    if (remaining === 0 && kase.status === 'on_hold') {
      await this.cases.resume(tx, kase.id, now);
      kase.status = 'active';
      const shifted = await this.steps.shiftWaiting(tx, kase.id, pausedMs, now);
      effects.enqueue.push(...shifted);
      resumed = shifted.length;
    }
    return [
      {
        kind: 'hold.released',
        actor,
        data: { holdIds: released, reason, resumedSteps: resumed, pausedSeconds: Math.round(pausedMs / 1000), holdsRemaining: remaining },
      },
    ];
  }

  /** A closing case keeps no open holds: they end with it, each release on the record. */
  async releaseAll(tx: Tx, caseId: string, reason: string, actor: string): Promise<TouchInput[]> {
    const released = await this.holds.release(tx, caseId, 'all', this.clock.now(), actor);
    if (released.length === 0) return [];
    return [{ kind: 'hold.released', actor, data: { holdIds: released, reason, resumedSteps: 0, holdsRemaining: 0 } }];
  }
}
