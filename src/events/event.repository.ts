import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';

/** Events seen, by their id (the idempotency key), with the case each applied to. */
@Injectable()
export class EventRepository extends SqlRepository {
  /** Records an event as seen; false when it was seen before. */
  async claim(tx: Tx, eventId: string, type: string, at: Date): Promise<boolean> {
    const rows = await this.rows(
      tx,
      'INSERT INTO processed_events (event_id, type, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING event_id',
      [eventId, type, at],
    );
    return rows.length > 0;
  }

  /** Records many events of one type as seen; returns the ids not seen before. */
  async claimMany(tx: Tx, eventIds: readonly string[], type: string, at: Date): Promise<Set<string>> {
    const rows = await this.rows<{ event_id: string }>(
      tx,
      `INSERT INTO processed_events (event_id, type, received_at) SELECT id, $2, $3::timestamptz FROM unnest($1::text[]) AS id
       ON CONFLICT DO NOTHING RETURNING event_id`,
      [eventIds, type, at],
    );
    return new Set(rows.map((row) => row.event_id));
  }

  /** The case each of these seen events applied to (null for none). */
  async casesOf(tx: Tx, eventIds: readonly string[]): Promise<Map<string, string | null>> {
    if (eventIds.length === 0) return new Map();
    const rows = await this.rows<{ event_id: string; case_id: string | null }>(
      tx,
      'SELECT event_id, case_id FROM processed_events WHERE event_id = ANY($1::text[])',
      [eventIds],
    );
    return new Map(rows.map((row) => [row.event_id, row.case_id]));
  }

  /** Notes which case each event applied to. */
  async setCases(tx: Tx, applied: readonly { eventId: string; caseId: string | undefined }[]): Promise<void> {
    if (applied.length === 0) return;
    await this.run(
      tx,
      `UPDATE processed_events SET case_id = given.case_id FROM unnest($1::text[], $2::uuid[]) AS given(event_id, case_id)
       WHERE processed_events.event_id = given.event_id`,
      [applied.map((a) => a.eventId), applied.map((a) => a.caseId ?? null)],
    );
  }
}
