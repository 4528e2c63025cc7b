import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { Clock } from '../common/clock';
import { DomainError, isLockWaitOver, ValidationFailed } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AdvisoryLock, Locks } from '../database/locks.repository';
import { type EvidenceTable, partitionsBefore, RETENTION_SETTING, retentionDecision } from '../domain/evidence-partitions';
import { PartitionDdl } from './partition-ddl';
import { PartitionRepository } from './partition.repository';
import { RetentionRepository } from './retention.repository';

export interface RetentionRequest {
  table: EvidenceTable;
  before?: Date;
  mode: 'detach' | 'drop';
  note: string;
  actor: string;
}

export interface RetentionOutcome {
  /** Null when no partition was past the cut-off (nothing done, nothing recorded). */
  runId: string | null;
  table: EvidenceTable;
  mode: 'detach' | 'drop';
  cutoff: string;
  partitions: string[];
  exportId?: string;
  sealId?: string;
  /** Cases whose chain now continues from an anchor (touches only). */
  anchoredCases?: number;
}

/**
 * An administrator's retention run: detaches or drops the month partitions of a table past its
 * retention, once an export of the whole trail over those months and a seal covering their touches
 * are out. All or nothing, in one transaction, recorded on `retention_runs` and in the log.
 */
@Injectable()
export class EvidenceRetention {
  private readonly logger = new Logger('Retention');

  constructor(
    private readonly partitions: PartitionRepository,
    private readonly retention: RetentionRepository,
    private readonly ddl: PartitionDdl,
    private readonly locks: Locks,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(request: RetentionRequest): Promise<RetentionOutcome> {
    const now = this.clock.now();
    const decision = retentionDecision({
      table: request.table,
      now,
      retention: this.config[RETENTION_SETTING[request.table]],
      legalMinimum: this.config.RETENTION_LEGAL_MINIMUM,
      before: request.before,
    });
    if ('refused' in decision) {
      const { field, reason } = decision.refused;
      if (field === 'before') throw new ValidationFailed([{ field: 'body.before', reason }]);
      throw new DomainError('unprocessable', `body.table: ${reason}`, [{ field: 'body.table', reason }]);
    }
    const { cutoff } = decision;
    const outcome = await this.ddl
      .run(async (tx) => {
        // The partitions sweep waits meanwhile.
        await this.locks.take(tx, AdvisoryLock.Partitions);
        const past = partitionsBefore(await this.partitions.attached(tx, request.table), cutoff);
        const base = { table: request.table, mode: request.mode, cutoff: cutoff.toISOString(), partitions: past.map((partition) => partition.name) };
        const first = past[0];
        const last = past[past.length - 1];
        if (!first || !last) return { runId: null, ...base };

        const exported = await this.retention.coveringExport(tx, first.from, last.to);
        if (!exported) {
          throw this.refused(
            `no export of the whole trail from ${first.from.toISOString()} to ${last.to.toISOString()} was made after a seal: seal, then download GET /v1/audit/export?from=${first.from.toISOString()}&to=${last.to.toISOString()} first`,
          );
        }
        for (const partition of past) {
          const unsealed = await this.retention.firstUnsealed(tx, partition.from, partition.to, exported.sealId);
          if (unsealed) {
            throw this.refused(
              `touch ${unsealed.seq} of case ${unsealed.caseId} (${partition.name}) is not covered by seal ${exported.sealId} of export ${exported.id}: seal and export again`,
            );
          }
        }
        if (request.table === 'touches') {
          const cut = await this.retention.firstKeptBeforeRemoved(tx, past);
          if (cut)
            throw this.refused(
              `case ${cut.caseId} keeps touch ${cut.seq}, older than touches in ${base.partitions.join(', ')}: its chain would be cut in the middle`,
            );
        }

        const runId = await this.retention.insertRun(tx, {
          at: now,
          actor: request.actor,
          table: request.table,
          mode: request.mode,
          cutoff,
          partitions: past,
          exportId: exported.id,
          sealId: exported.sealId,
          note: request.note,
        });
        const anchoredCases = request.table === 'touches' ? await this.retention.insertAnchors(tx, runId, past) : undefined;
        // Only now the table's locks: the checks above read old months, which no writer adds to.
        await this.partitions.lockForDdl(tx, request.table);
        for (const partition of past) {
          if (request.mode === 'detach') await this.partitions.detach(tx, partition);
          else await this.partitions.drop(tx, partition);
        }
        return { runId, ...base, exportId: exported.id, sealId: exported.sealId, ...(anchoredCases === undefined ? {} : { anchoredCases }) };
      })
      .catch((error: unknown) => {
        if (!isLockWaitOver(error)) throw error;
        throw new ServiceUnavailableException(
          `${request.table}: the table or its partitions stayed in use (writers, an export) through every attempt; nothing was removed, retry later`,
        );
      });
    if (outcome.runId) {
      this.logger.log(
        `retention run ${outcome.runId} by ${request.actor}: ${request.mode} ${outcome.partitions.join(', ')} of ${request.table} (before ${outcome.cutoff}, export ${outcome.exportId}, seal ${outcome.sealId}): ${request.note}`,
      );
    }
    return outcome;
  }

  /** A run the state of the trail does not allow yet (no export, no seal, a chain not cut at its start). */
  private refused(reason: string): DomainError {
    return new DomainError('unprocessable', `body.table: ${reason}`, [{ field: 'body.table', reason }]);
  }
}
