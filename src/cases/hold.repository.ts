import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import { type HoldKind, PAUSING_HOLDS } from '../domain/holds';

export interface HoldRecord {
  id: string;
  kind: HoldKind;
  reason: string;
  placedAt: Date;
  placedBy: string;
  releasedAt: Date | null;
  releasedBy: string | null;
}

/** Holds on a case: placed, released, and what still pauses it. */
@Injectable()
export class HoldRepository extends SqlRepository {
  async insert(tx: Tx, hold: { id: string; caseId: string; kind: HoldKind; reason: string; at: Date; by: string }): Promise<void> {
    await this.run(tx, `INSERT INTO holds (id, case_id, kind, reason, placed_at, placed_by) VALUES ($1, $2, $3, $4, $5, $6)`, [
      hold.id,
      hold.caseId,
      hold.kind,
      hold.reason,
      hold.at,
      hold.by,
    ]);
  }

  /** Releases the case's open holds that are named, or of the given kinds, or all; returns their ids. */
  async release(
    tx: Tx,
    caseId: string,
    which: { holdIds: readonly string[] } | { kinds: readonly HoldKind[] } | 'all',
    at: Date,
    by: string,
  ): Promise<string[]> {
    const filter = which === 'all' ? '' : 'holdIds' in which ? 'AND id = ANY($4::uuid[])' : 'AND kind = ANY($4::text[])';
    const rows = await this.changed<{ id: string }>(
      tx,
      `UPDATE holds SET released_at = $2, released_by = $3 WHERE case_id = $1 AND released_at IS NULL ${filter} RETURNING id`,
      [caseId, at, by, ...(which === 'all' ? [] : ['holdIds' in which ? which.holdIds : which.kinds])],
    );
    return rows.map((row) => row.id);
  }

  /** How many pausing holds remain open on the case, and since when the case is on hold. */
  async pausing(tx: Tx, caseId: string): Promise<{ remaining: number; heldSince: Date | null }> {
    const row = await this.row<{ remaining: number; held_since: Date | null }>(
      tx,
      `SELECT count(*) FILTER (WHERE h.kind = ANY($2::text[]))::int AS remaining, c.held_since
       FROM cases c LEFT JOIN holds h ON h.case_id = c.id AND h.released_at IS NULL WHERE c.id = $1 GROUP BY c.held_since`,
      [caseId, PAUSING_HOLDS],
    );
    return { remaining: row?.remaining ?? 0, heldSince: row?.held_since ?? null };
  }

  get(tx: Tx, caseId: string, holdId: string): Promise<{ kind: HoldKind; releasedAt: Date | null } | undefined> {
    return this.row(tx, 'SELECT kind, released_at AS "releasedAt" FROM holds WHERE id = $1 AND case_id = $2', [holdId, caseId]);
  }

  ofCase(caseId: string): Promise<HoldRecord[]> {
    return this.rows(
      undefined,
      `SELECT id, kind, reason, placed_at AS "placedAt", placed_by AS "placedBy", released_at AS "releasedAt", released_by AS "releasedBy"
       FROM holds WHERE case_id = $1 ORDER BY placed_at`,
      [caseId],
    );
  }
}
