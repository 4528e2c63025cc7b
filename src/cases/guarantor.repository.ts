import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import type { GuaranteeType } from '../domain/legal-clocks';

export interface NewGuarantor {
  id: string;
  caseId: string;
  externalId: string;
  name: string;
  email: string | null;
  address: Record<string, string> | null;
  guaranteeEndsOn: string;
  type: GuaranteeType;
}

export interface Guarantor {
  id: string;
  externalId: string;
  name: string;
  email: string | null;
  address: Record<string, string> | null;
  guaranteeEndsOn: string;
  type: GuaranteeType;
}

export interface GuarantorRecord {
  id: string;
  externalId: string;
  name: string;
  type: GuaranteeType;
  guaranteeEndsOn: string;
  notifiedOn: string | null;
  warnedAt: Date | null;
}

const OPEN = `c.status IN ('active', 'on_hold')`;

/** Guarantors of a case, their guarantee periods and the notices that reached them. */
@Injectable()
export class GuarantorRepository extends SqlRepository {
  async insertMany(tx: Tx, guarantors: readonly NewGuarantor[], at: Date): Promise<void> {
    if (guarantors.length === 0) return;
    await this.run(
      tx,
      `INSERT INTO guarantors (id, case_id, external_id, name, email, address, guarantee_ends_on, guarantee_type, created_at)
       SELECT *, $9::timestamptz FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::date[], $8::text[])`,
      [
        guarantors.map((g) => g.id),
        guarantors.map((g) => g.caseId),
        guarantors.map((g) => g.externalId),
        guarantors.map((g) => g.name),
        guarantors.map((g) => g.email),
        guarantors.map((g) => (g.address ? JSON.stringify(g.address) : null)),
        guarantors.map((g) => g.guaranteeEndsOn),
        guarantors.map((g) => g.type),
        at,
      ],
    );
  }

  /** A case's guarantors, as added (those of one event by external id). */
  ofCase(tx: Tx | undefined, caseId: string): Promise<Guarantor[]> {
    return this.rows(
      tx,
      `SELECT id, external_id AS "externalId", name, email, address, to_char(guarantee_ends_on, 'YYYY-MM-DD') AS "guaranteeEndsOn", guarantee_type AS type
       FROM guarantors WHERE case_id = $1 ORDER BY created_at, external_id`,
      [caseId],
    );
  }

  /** As the case detail shows them. */
  recordsOfCase(caseId: string): Promise<GuarantorRecord[]> {
    return this.rows(
      undefined,
      `SELECT id, external_id AS "externalId", name, guarantee_type AS type, to_char(guarantee_ends_on, 'YYYY-MM-DD') AS "guaranteeEndsOn",
         to_char(notified_on, 'YYYY-MM-DD') AS "notifiedOn", warned_at AS "warnedAt"
       FROM guarantors WHERE case_id = $1 ORDER BY created_at, external_id`,
      [caseId],
    );
  }

  /** The first delivered notice preserves the guarantee; later ones change nothing. */
  async markNotified(tx: Tx, id: string, on: string): Promise<void> {
    await this.run(tx, 'UPDATE guarantors SET notified_on = $2 WHERE id = $1 AND notified_on IS NULL', [id, on]);
  }

  /**
   * Marks up to `limit` guarantees of open cases ending within `warnDays` days (on the debtor's
   * calendar) with no delivered notice and no warning yet; returns them.
   */
  markExpiring(
    tx: Tx,
    now: Date,
    warnDays: number,
    limit: number,
  ): Promise<{ id: string; caseId: string; externalId: string; type: GuaranteeType; endsOn: string; daysLeft: number }[]> {
    // A joint guarantee is preserved by a delivered notice (art. 693(2)); a general one only by
    // suing or arbitrating against the debtor in the period (art. 693(1)), so a notice does not end its warning.
    return this.changed(
      tx,
      `UPDATE guarantors g SET warned_at = $1
       FROM cases c JOIN debtors d ON d.id = c.debtor_id
       WHERE c.id = g.case_id AND ${OPEN} AND g.id IN (
         SELECT g2.id FROM guarantors g2 JOIN cases c ON c.id = g2.case_id JOIN debtors d ON d.id = c.debtor_id
         WHERE ${OPEN} AND (g2.guarantee_type = 'general' OR g2.notified_on IS NULL) AND g2.warned_at IS NULL AND days_until(g2.guarantee_ends_on, $1, d.timezone) BETWEEN 0 AND $2
         LIMIT $3)
       RETURNING g.id, g.case_id AS "caseId", g.external_id AS "externalId", g.guarantee_type AS type, to_char(g.guarantee_ends_on, 'YYYY-MM-DD') AS "endsOn", days_until(g.guarantee_ends_on, $1, d.timezone) AS "daysLeft"`,
      [now, warnDays, limit],
    );
  }
}
