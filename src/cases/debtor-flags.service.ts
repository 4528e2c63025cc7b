import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { Tx } from '../database/transactions';
import { DEBTOR_FLAG_HOLDS, type DebtorFlag } from '../domain/holds';
import type { QueueEffects } from '../domain/step';
import type { TouchInput } from '../domain/touch-kinds';
import { AuditService } from '../audit/audit.service';
import { CaseRepository } from './case.repository';
import { CaseHolds } from './case-holds.service';
import { DebtorRepository } from './debtor.repository';

/** A debtor's flags (cease contact, deceased, bankrupt) and the holds they place on the debtor's cases. */
@Injectable()
export class DebtorFlags {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly cases: CaseRepository,
    private readonly debtors: DebtorRepository,
    private readonly holds: CaseHolds,
  ) {}

  /**
   * Sets the debtor's flags and places or releases the matching holds on each open case: a flag
   * that becomes true places its hold, one that becomes false releases it. Each open case records
   * `note` and those changes.
   */
  async apply(
    tx: Tx,
    debtorId: string,
    flags: Partial<Record<DebtorFlag, boolean | undefined>>,
    actor: string,
    effects: QueueEffects,
    note: TouchInput,
  ): Promise<void> {
    // Cases first, in id order, then the debtor row: the order every writer of these rows keeps.
    const cases = await this.cases.lockOpenOfDebtor(tx, debtorId);
    const before = await this.debtors.lockFlags(tx, debtorId);
    const changes = DEBTOR_FLAG_HOLDS.filter((flag) => flags[flag] !== undefined && flags[flag] !== before[flag]);
    await this.debtors.setFlags(tx, debtorId, Object.fromEntries(changes.map((flag) => [flag, flags[flag]])), this.clock.now());
    for (const kase of cases) {
      const touches: TouchInput[] = [note];
      for (const flag of changes) {
        if (flags[flag]) touches.push(...(await this.holds.place(tx, kase, flag, `debtor flagged ${flag}`, actor, effects)).touches);
        else touches.push(...(await this.holds.release(tx, kase, { kinds: [flag] }, `debtor no longer flagged ${flag}`, actor, effects)));
      }
      await this.audit.record(tx, kase.id, touches);
    }
  }
}
