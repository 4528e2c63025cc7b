import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { TouchInput } from '../domain/touch-kinds';
import { Clock } from '../common/clock';
import { updateReturning } from '../database/sql';
import { EscalationService } from '../escalations/escalation.service';
import type { DueStep } from '../scheduling/step-scheduler.service';

export const HOLD_KINDS = ['dispute', 'manual', 'promise', 'plan', 'cease-contact', 'deceased', 'bankrupt'] as const;
export type HoldKind = (typeof HOLD_KINDS)[number];

/**
 * What each hold does. Pausing holds put the case `on_hold`: no step runs until the last one is
 * released, and the ladder then resumes where it paused. `cease-contact` pauses nothing but
 * stops contact: notices are skipped and letters (legally required) go by post only.
 * `deceased` and `bankrupt` also hand the case to legal review (estate or insolvency handling).
 */
export const HOLD_EFFECTS: Record<HoldKind, 'pause' | 'no-contact'> = {
  dispute: 'pause',
  manual: 'pause',
  promise: 'pause',
  plan: 'pause',
  'cease-contact': 'no-contact',
  deceased: 'pause',
  bankrupt: 'pause',
};
const PAUSING = HOLD_KINDS.filter((kind) => HOLD_EFFECTS[kind] === 'pause');
/** Holds that need people: the estate of a deceased debtor, or the insolvency administrator. */
const LEGAL_HANDLING: Partial<Record<HoldKind, string>> = { deceased: 'estate handling', bankrupt: 'insolvency proceedings' };

/** What a change asks of the queue once its transaction has committed. */
export interface QueueEffects {
  enqueue: DueStep[];
  withdraw: string[];
}

export interface HeldCase {
  id: string;
  status: string;
}

/** Places and releases holds on a locked case, pausing and resuming its ladder. */
@Injectable()
export class CaseHolds {
  constructor(
    private readonly clock: Clock,
    private readonly escalations: EscalationService,
  ) {}

  async place(
    m: EntityManager,
    kase: HeldCase,
    kind: HoldKind,
    reason: string,
    actor: string,
    effects: QueueEffects,
  ): Promise<{ holdId: string; touches: TouchInput[] }> {
    const now = this.clock.now();
    const holdId = randomUUID();
    await m.query(`INSERT INTO holds (id, case_id, kind, reason, placed_at, placed_by) VALUES ($1, $2, $3, $4, $5, $6)`, [
      holdId,
      kase.id,
      kind,
      reason,
      now,
      actor,
    ]);
    if (HOLD_EFFECTS[kind] === 'pause' && kase.status === 'active') {
      await m.query(`UPDATE cases SET status = 'on_hold', held_since = $2, updated_at = $2 WHERE id = $1`, [kase.id, now]);
      kase.status = 'on_hold';
      const waiting: { id: string }[] = await m.query(`SELECT id FROM scheduled_steps WHERE case_id = $1 AND status IN ('pending', 'deferred')`, [kase.id]);
      effects.withdraw.push(...waiting.map((step) => step.id));
    }
    const touches: TouchInput[] = [{ kind: 'hold.placed', actor, data: { holdId, kind, reason, effect: HOLD_EFFECTS[kind] } }];
    const handling = LEGAL_HANDLING[kind];
    if (handling) touches.push(...(await this.escalations.escalate(m, kase.id, 'legal', actor, { reason: `${handling} (${reason})` })).touches);
    return { holdId, touches };
  }

  /**
   * Releases holds (those named, or every open one of the given kinds). When no pausing hold
   * remains the case is active again and its waiting steps move later by the time it was held,
   * so the debtor does not get every missed notice at once. Returns no touch when nothing was open.
   */
  async release(
    m: EntityManager,
    kase: HeldCase,
    which: { holdIds: string[] } | { kinds: readonly HoldKind[] },
    reason: string,
    actor: string,
    effects: QueueEffects,
  ): Promise<TouchInput[]> {
    const now = this.clock.now();
    const released = await updateReturning<{ id: string }>(
      m,
      `UPDATE holds SET released_at = $2, released_by = $3
       WHERE case_id = $1 AND released_at IS NULL AND ${'holdIds' in which ? 'id = ANY($4::uuid[])' : 'kind = ANY($4::text[])'} RETURNING id`,
      [kase.id, now, actor, 'holdIds' in which ? which.holdIds : which.kinds],
    );
    if (released.length === 0) return [];
    const [{ remaining, held_since }] = await m.query(
      `SELECT count(*) FILTER (WHERE h.kind = ANY($2::text[]))::int AS remaining, c.held_since
       FROM cases c LEFT JOIN holds h ON h.case_id = c.id AND h.released_at IS NULL WHERE c.id = $1 GROUP BY c.held_since`,
      [kase.id, PAUSING],
    );
    let resumed: { id: string; due_at: Date }[] = [];
    const pausedMs = held_since ? now.getTime() - new Date(held_since).getTime() : 0;
    if (remaining === 0 && kase.status === 'on_hold') {
      await m.query(`UPDATE cases SET status = 'active', held_since = NULL, updated_at = $2 WHERE id = $1`, [kase.id, now]);
      kase.status = 'active';
      resumed = await updateReturning<{ id: string; due_at: Date }>(
        m,
        `UPDATE scheduled_steps SET due_at = due_at + make_interval(secs => $2::double precision / 1000), updated_at = $3
         WHERE case_id = $1 AND status IN ('pending', 'deferred') RETURNING id, due_at`,
        [kase.id, pausedMs, now],
      );
      effects.enqueue.push(...resumed.map((step) => ({ id: step.id, dueAt: step.due_at })));
    }
    return [
      {
        kind: 'hold.released',
        actor,
        data: {
          holdIds: released.map((hold) => hold.id),
          reason,
          resumedSteps: resumed.length,
          pausedSeconds: Math.round(pausedMs / 1000),
          holdsRemaining: remaining,
        },
      },
    ];
  }

  /** A closing case keeps no open holds: they end with it, each release on the record. */
  async releaseAll(m: EntityManager, caseId: string, reason: string, actor: string): Promise<TouchInput[]> {
    const released = await updateReturning<{ id: string }>(
      m,
      `UPDATE holds SET released_at = $2, released_by = $3 WHERE case_id = $1 AND released_at IS NULL RETURNING id`,
      [caseId, this.clock.now(), actor],
    );
    if (released.length === 0) return [];
    return [{ kind: 'hold.released', actor, data: { holdIds: released.map((hold) => hold.id), reason, resumedSteps: 0, holdsRemaining: 0 } }];
  }
}
