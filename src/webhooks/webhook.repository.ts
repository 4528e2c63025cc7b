import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import type { WatermarkState } from '../domain/touch-watermark';

export interface Endpoint {
  id: string;
  url: string;
  kinds: string[];
  description: string | null;
  enabled: boolean;
  consecutiveFailures: number;
  disabledAt: Date | null;
  disabledReason: string | null;
  createdAt: Date;
  createdBy: string;
  updatedAt: Date;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface Delivery {
  id: string;
  endpointId: string;
  touchId: string;
  caseId: string;
  kind: string;
  status: DeliveryStatus;
  attempts: number;
  replays: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

export interface Attempt {
  attempt: number;
  at: Date;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  excerpt: string | null;
}

/** What a delivery job needs: the delivery, its endpoint's address and sealed secret, and the touch. */
export interface DeliveryWork extends Delivery {
  url: string;
  secretSealed: string;
  endpointEnabled: boolean;
  touch: { id: string; caseId: string; kind: string; at: string; actor: string; channel: string | null; data: Record<string, unknown> };
}

const ENDPOINT = `id, url, kinds, description, enabled, consecutive_failures AS "consecutiveFailures", disabled_at AS "disabledAt",
  disabled_reason AS "disabledReason", created_at AS "createdAt", created_by AS "createdBy", updated_at AS "updatedAt"`;
const DELIVERY = `d.id, d.endpoint_id AS "endpointId", d.touch_id::text AS "touchId", d.case_id AS "caseId", d.kind, d.status, d.attempts,
  d.replays, d.last_status_code AS "lastStatusCode", d.last_error AS "lastError", d.created_at AS "createdAt", d.delivered_at AS "deliveredAt"`;

/** The job id of a delivery's current run: each replay is a job of its own, the first run's failed job staying for operators. */
export const deliveryJobId = (delivery: { id: string; replays: number }) => (delivery.replays === 0 ? delivery.id : `${delivery.id}.r${delivery.replays}`);

/** Webhook endpoints, their deliveries, the attempts log, and the sweep's watermark. */
@Injectable()
export class WebhookRepository extends SqlRepository {
  async insertEndpoint(tx: Tx, endpoint: Endpoint & { secretSealed: string }): Promise<void> {
    await this.run(
      tx,
      `INSERT INTO webhook_endpoints (id, url, kinds, description, secret_sealed, enabled, starts_after, created_at, created_by, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, (SELECT last_value FROM touches_id_seq), $7, $8, $7)`,
      [endpoint.id, endpoint.url, endpoint.kinds, endpoint.description, endpoint.secretSealed, endpoint.enabled, endpoint.createdAt, endpoint.createdBy],
    );
  }

  async endpoint(tx: Tx | undefined, id: string, lock = false): Promise<Endpoint | undefined> {
    return this.row<Endpoint>(tx, `SELECT ${ENDPOINT} FROM webhook_endpoints WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  }

  /** Oldest first, after the cursor's (created_at, id). */
  async endpoints(after: [Date, string] | undefined, limit: number): Promise<Endpoint[]> {
    return this.rows<Endpoint>(
      undefined,
      `SELECT ${ENDPOINT} FROM webhook_endpoints WHERE ($1::timestamptz IS NULL OR (created_at, id) > ($1, $2::uuid)) ORDER BY created_at, id LIMIT $3`,
      [after?.[0] ?? null, after?.[1] ?? null, limit],
    );
  }

  /** Saves an admin's change; enabling clears the failure count and the reason it was disabled. */
  async updateEndpoint(
    tx: Tx,
    id: string,
    change: { url?: string; kinds?: string[]; description?: string | null; enabled?: boolean; secretSealed?: string },
    at: Date,
  ): Promise<void> {
    await this.run(
      tx,
      `UPDATE webhook_endpoints SET url = COALESCE($2, url), kinds = COALESCE($3, kinds),
         description = CASE WHEN $4 THEN $5 ELSE description END, secret_sealed = COALESCE($7, secret_sealed), updated_at = $8,
         enabled = COALESCE($6, enabled),
         consecutive_failures = CASE WHEN $6 AND NOT enabled THEN 0 ELSE consecutive_failures END,
         disabled_at = CASE WHEN $6 THEN NULL WHEN $6 = false AND enabled THEN $8 ELSE disabled_at END,
         disabled_reason = CASE WHEN $6 THEN NULL WHEN $6 = false AND enabled THEN 'disabled by an admin' ELSE disabled_reason END
       WHERE id = $1`,
      [
        id,
        change.url ?? null,
        change.kinds ?? null,
        'description' in change,
        change.description ?? null,
        change.enabled ?? null,
        change.secretSealed ?? null,
        at,
      ],
    );
  }

  /**
   * A delivery's outcome on its endpoint's failure count: a success resets it; a failed delivery
   * adds one and, at `disableAfter` in a row, disables the endpoint. Answers whether this call
   * disabled it (once: a disabled endpoint is not disabled again) and the count.
   */
  async countOutcome(tx: Tx, id: string, failed: boolean, disableAfter: number, at: Date, reason: string): Promise<{ disabled: boolean; failures: number }> {
    if (!failed) {
      await this.run(tx, 'UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = $1 AND consecutive_failures <> 0', [id]);
      return { disabled: false, failures: 0 };
    }
    // The row locked first, so that `was` is the state this update changes.
    const [row] = await this.changed<{ failures: number; disabled: boolean }>(
      tx,
      `WITH was AS (SELECT enabled FROM webhook_endpoints WHERE id = $1 FOR UPDATE)
       UPDATE webhook_endpoints e SET consecutive_failures = e.consecutive_failures + 1,
         enabled = e.enabled AND e.consecutive_failures + 1 < $2,
         disabled_at = CASE WHEN e.enabled AND e.consecutive_failures + 1 >= $2 THEN $3 ELSE e.disabled_at END,
         disabled_reason = CASE WHEN e.enabled AND e.consecutive_failures + 1 >= $2 THEN $4 ELSE e.disabled_reason END
       FROM was WHERE e.id = $1
       RETURNING e.consecutive_failures AS failures, (was.enabled AND NOT e.enabled) AS disabled`,
      [id, disableAfter, at, reason],
    );
    return row ?? { disabled: false, failures: 0 };
  }

  /**
   * New touches of the kinds some enabled endpoint wants, after the watermark and `after` (and after
   * the oldest enabled endpoint's start, so old touches are not scanned for nothing), in id order; in the same
   * snapshot whether the pending transactions have ended and the sequence's value, then this
   * transaction's id (as QualityRepository.contactCandidates explains).
   */
  async newTouches(
    tx: Tx,
    state: WatermarkState,
    after: string | undefined,
    limit: number,
  ): Promise<{ ids: string[]; settled: boolean; sequence: string; xid: string }> {
    const row = await this.row<{ ids: string[] | null; settled: boolean; sequence: string }>(
      tx,
      `WITH wanted AS (SELECT array_agg(DISTINCT k) AS kinds, min(starts_after) AS after FROM webhook_endpoints, unnest(kinds) k WHERE enabled)
       SELECT (SELECT array_agg(id::text ORDER BY id) FROM (
           SELECT t.id FROM touches t, wanted WHERE t.id > GREATEST($1::bigint, $4::bigint, wanted.after) AND t.kind = ANY(wanted.kinds) ORDER BY t.id LIMIT $2) x) AS ids,
         pg_snapshot_xmin(pg_current_snapshot()) >= COALESCE($3::xid8, '0'::xid8) AS settled,
         (SELECT last_value FROM touches_id_seq)::text AS sequence`,
      [state.watermark, limit, state.pendingXid, after ?? null],
    );
    const own = await this.row<{ xid: string }>(tx, 'SELECT pg_current_xact_id()::text AS xid');
    return { ids: row!.ids ?? [], settled: row!.settled, sequence: row!.sequence, xid: own!.xid };
  }

  /** One delivery per enabled endpoint that wants each touch; none twice (a touch seen again makes nothing). Answers the new ones. */
  async createDeliveries(tx: Tx, touchIds: readonly string[], at: Date): Promise<{ id: string; replays: number }[]> {
    if (touchIds.length === 0) return [];
    return this.rows<{ id: string; replays: number }>(
      tx,
      `INSERT INTO webhook_deliveries (id, endpoint_id, touch_id, case_id, kind, status, created_at)
       SELECT gen_random_uuid(), e.id, t.id, t.case_id, t.kind, 'pending', $2
       FROM touches t JOIN webhook_endpoints e ON e.enabled AND t.kind = ANY(e.kinds) AND t.id > e.starts_after
       WHERE t.id = ANY($1::bigint[])
       ORDER BY t.id
       ON CONFLICT (endpoint_id, touch_id) DO NOTHING
       RETURNING id, replays`,
      [touchIds, at],
    );
  }

  async sweepState(tx: Tx): Promise<WatermarkState> {
    const row = await this.row<WatermarkState>(
      tx,
      `SELECT watermark::text AS watermark, pending_limit::text AS "pendingLimit", pending_xid::text AS "pendingXid" FROM webhook_sweep_state`,
    );
    return row!;
  }

  async saveSweepState(tx: Tx, state: WatermarkState): Promise<void> {
    await this.run(tx, 'UPDATE webhook_sweep_state SET watermark = $1, pending_limit = $2, pending_xid = $3::xid8', [
      state.watermark,
      state.pendingLimit,
      state.pendingXid,
    ]);
  }

  /** Pending deliveries, oldest first: the sweep re-adds their jobs (adding one that exists is a no-op). */
  async pendingDeliveries(limit: number): Promise<{ id: string; replays: number }[]> {
    return this.rows(undefined, `SELECT id, replays FROM webhook_deliveries WHERE status = 'pending' ORDER BY created_at LIMIT $1`, [limit]);
  }

  async work(id: string): Promise<DeliveryWork | undefined> {
    return this.row<DeliveryWork>(
      undefined,
      `SELECT ${DELIVERY}, e.url, e.secret_sealed AS "secretSealed", e.enabled AS "endpointEnabled",
         json_build_object('id', t.id::text, 'caseId', t.case_id, 'kind', t.kind, 'at', to_char(t.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'actor', t.actor, 'channel', t.channel, 'data', t.data) AS touch
       FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id JOIN touches t ON t.id = d.touch_id
       WHERE d.id = $1`,
      [id],
    );
  }

  async delivery(tx: Tx | undefined, endpointId: string, id: string, lock = false): Promise<Delivery | undefined> {
    return this.row<Delivery>(tx, `SELECT ${DELIVERY} FROM webhook_deliveries d WHERE d.endpoint_id = $1 AND d.id = $2${lock ? ' FOR UPDATE' : ''}`, [
      endpointId,
      id,
    ]);
  }

  /** Newest first, after the cursor's (created_at, id). */
  async deliveries(endpointId: string, filter: { status?: DeliveryStatus }, after: [Date, string] | undefined, limit: number): Promise<Delivery[]> {
    return this.rows<Delivery>(
      undefined,
      `SELECT ${DELIVERY} FROM webhook_deliveries d WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.status = $2)
         AND ($3::timestamptz IS NULL OR (d.created_at, d.id) < ($3, $4::uuid))
       ORDER BY d.created_at DESC, d.id DESC LIMIT $5`,
      [endpointId, filter.status ?? null, after?.[0] ?? null, after?.[1] ?? null, limit],
    );
  }

  async attempts(deliveryId: string): Promise<Attempt[]> {
    return this.rows<Attempt>(
      undefined,
      `SELECT attempt, at, status_code AS "statusCode", error, duration_ms AS "durationMs", excerpt FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id`,
      [deliveryId],
    );
  }

  /** One attempt in the append-only log; `attempt` is the number of this one, counting every earlier attempt and replay. */
  async logAttempt(tx: Tx | undefined, deliveryId: string, target: 'endpoint' | 'agency', attempt: Attempt): Promise<void> {
    await this.run(
      tx,
      `INSERT INTO webhook_attempts (delivery_id, target, attempt, at, status_code, error, duration_ms, excerpt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [deliveryId, target, attempt.attempt, attempt.at, attempt.statusCode, attempt.error, attempt.durationMs, attempt.excerpt],
    );
  }

  /**
   * Counts an attempt on a pending delivery and sets its status (`pending` while retries follow);
   * answers the attempt's number, or undefined when the delivery is no longer pending (a rerun of
   * a job whose attempt was already counted).
   */
  async settleAttempt(tx: Tx, id: string, status: DeliveryStatus, statusCode: number | null, error: string | null, at: Date): Promise<number | undefined> {
    const [row] = await this.changed<{ attempts: number }>(
      tx,
      `UPDATE webhook_deliveries SET attempts = attempts + 1, status = $2, last_status_code = $3, last_error = $4,
         delivered_at = CASE WHEN $2 = 'delivered' THEN $5 ELSE delivered_at END
       WHERE id = $1 AND status = 'pending' RETURNING attempts`,
      [id, status, statusCode, error, at],
    );
    return row?.attempts;
  }

  /** Fails a pending delivery without an attempt (its endpoint was disabled meanwhile); a replay sends it later. */
  async failUnsent(id: string, reason: string): Promise<void> {
    await this.run(undefined, `UPDATE webhook_deliveries SET status = 'failed', last_error = $2 WHERE id = $1 AND status = 'pending'`, [id, reason]);
  }

  /** Makes a settled delivery pending again for a replay; undefined when it is pending already. */
  async reopen(tx: Tx, id: string): Promise<{ id: string; replays: number } | undefined> {
    const [row] = await this.changed<{ id: string; replays: number }>(
      tx,
      `UPDATE webhook_deliveries SET status = 'pending', replays = replays + 1 WHERE id = $1 AND status <> 'pending' RETURNING id, replays`,
      [id],
    );
    return row;
  }
}
