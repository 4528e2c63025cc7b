import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import type { DebtorUpdated, InvoiceOverdue } from '../domain/events';
import type { DebtorFlag } from '../domain/holds';

/** A debtor as an overdue event names it. */
export type DebtorDetails = InvoiceOverdue['debtor'];

/** What a debtor update may change; flags are set apart (see `setFlags`). */
export type DebtorChanges = Omit<DebtorUpdated['debtor'], 'externalId' | 'ceaseContact' | 'deceased' | 'bankrupt'>;

const FLAG_COLUMNS = { 'cease-contact': 'cease_contact', deceased: 'deceased', bankrupt: 'bankrupt' } as const satisfies Record<DebtorFlag, string>;

/** Debtors: upserted by overdue events, changed by debtor updates and the opt-out link. */
@Injectable()
export class DebtorRepository extends SqlRepository {
  /**
   * Inserts new debtors and refreshes known ones (one row per debtor): the details an event gives
   * replace the stored ones; a locale or zone the event does not state keeps the stored one.
   */
  upsertMany(
    tx: Tx,
    debtors: readonly DebtorDetails[],
    defaults: { locale: string; timezone: string },
    at: Date,
  ): Promise<{ id: string; external_id: string; timezone: string; wilful: boolean }[]> {
    return this.rows(
      tx,
      `INSERT INTO debtors (id, external_id, name, email, phone, address, locale, timezone, unsubscribe_token, created_at, updated_at)
       SELECT id, external_id, name, email, phone, address, COALESCE(locale, $9), COALESCE(timezone, $10), token, $11::timestamptz, $11::timestamptz
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[], $8::text[], $14::text[])
         AS given(id, external_id, name, email, phone, address, locale, timezone, token)
       ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name,
         email = COALESCE(EXCLUDED.email, debtors.email), phone = COALESCE(EXCLUDED.phone, debtors.phone),
         address = COALESCE(EXCLUDED.address, debtors.address),
         locale = CASE WHEN $12::text[] @> ARRAY[EXCLUDED.external_id] THEN EXCLUDED.locale ELSE debtors.locale END,
         timezone = CASE WHEN $13::text[] @> ARRAY[EXCLUDED.external_id] THEN EXCLUDED.timezone ELSE debtors.timezone END,
         updated_at = $11
       RETURNING id, external_id, timezone, wilful`,
      [
        debtors.map(() => randomUUID()),
        debtors.map((d) => d.externalId),
        debtors.map((d) => d.name),
        debtors.map((d) => d.email ?? null),
        debtors.map((d) => d.phone ?? null),
        debtors.map((d) => (d.address ? JSON.stringify(d.address) : null)),
        debtors.map((d) => d.locale ?? null),
        debtors.map((d) => d.timezone ?? null),
        defaults.locale,
        defaults.timezone,
        at,
        debtors.filter((d) => d.locale).map((d) => d.externalId),
        debtors.filter((d) => d.timezone).map((d) => d.externalId),
        debtors.map(() => randomBytes(24).toString('base64url')),
      ],
    );
  }

  async idOf(tx: Tx, externalId: string): Promise<string | undefined> {
    return (await this.row<{ id: string }>(tx, 'SELECT id FROM debtors WHERE external_id = $1', [externalId]))?.id;
  }

  /** The debtor an opt-out link names. */
  async idOfUnsubscribeToken(tx: Tx | undefined, token: string): Promise<string | undefined> {
    return (await this.row<{ id: string }>(tx, 'SELECT id FROM debtors WHERE unsubscribe_token = $1', [token]))?.id;
  }

  /** Replaces the given details; absent ones stay. */
  async update(tx: Tx, id: string, changes: DebtorChanges, at: Date): Promise<void> {
    // Column names come from this list, never from the caller's keys.
    const columns: Record<string, unknown> = {
      name: changes.name,
      email: changes.email,
      phone: changes.phone,
      address: changes.address ? JSON.stringify(changes.address) : undefined,
      locale: changes.locale,
      timezone: changes.timezone,
      wilful: changes.wilful,
    };
    const given = Object.entries(columns).filter(([, value]) => value !== undefined);
    if (given.length === 0) return;
    await this.run(
      tx,
      `UPDATE debtors SET ${given.map(([column], i) => `${column} = $${i + 2}`).join(', ')}, updated_at = $${given.length + 2} WHERE id = $1`,
      [id, ...given.map(([, value]) => value), at],
    );
  }

  /** Locks the debtor row (after the debtor's cases) and reads its flags. */
  async lockFlags(tx: Tx, id: string): Promise<Record<DebtorFlag, boolean>> {
    const row = await this.row<{ cease_contact: boolean; deceased: boolean; bankrupt: boolean }>(
      tx,
      'SELECT cease_contact, deceased, bankrupt FROM debtors WHERE id = $1 FOR UPDATE',
      [id],
    );
    return { 'cease-contact': row?.cease_contact ?? false, deceased: row?.deceased ?? false, bankrupt: row?.bankrupt ?? false };
  }

  async setFlags(tx: Tx, id: string, flags: Partial<Record<DebtorFlag, boolean>>, at: Date): Promise<void> {
    const given = (Object.keys(FLAG_COLUMNS) as DebtorFlag[]).filter((flag) => flags[flag] !== undefined);
    if (given.length === 0) return;
    await this.run(
      tx,
      `UPDATE debtors SET ${given.map((flag, i) => `${FLAG_COLUMNS[flag]} = $${i + 2}`).join(', ')}, updated_at = $${given.length + 2} WHERE id = $1`,
      [id, ...given.map((flag) => flags[flag]), at],
    );
  }
}
