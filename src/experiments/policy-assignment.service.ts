import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AdvisoryLock, Locks } from '../database/locks.repository';
import { Transactions, type Tx } from '../database/transactions';
import type { PolicyVersion } from '../domain/policy';
import { PolicyRegistry } from '../policies/policy-registry.service';
import { type Experiment, ExperimentRepository } from './experiment.repository';
import { type Arm, armOf, bucketOf, replacements } from './experiment.rules';

/** What a new case's policy is chosen from. */
export interface PolicyRequest {
  debtorExternalId: string;
  segment: string;
  /** The event's own `policy`, if it named one. */
  policyKey?: string;
}

/** The arm a new case is given, with what the `experiment.assigned` touch records. */
export interface ArmAssignment {
  experiment: Pick<Experiment, 'id' | 'name' | 'champion' | 'challenger' | 'challengerShare'>;
  arm: Arm;
  bucket: number;
}

export interface Assigned {
  policy: PolicyVersion;
  arm: ArmAssignment | null;
}

/**
 * Chooses each new case's policy: the policy files' choice (the event's `policy`, else by
 * segment, else the default); then, unless the event named its policy, the replacement a
 * promoted experiment put in force; then the running experiment of that policy, if any, splits
 * by the debtor's bucket. A policy an experiment names that the files no longer have is left
 * out: the case gets the policy chosen before it (and the boot warns).
 */
@Injectable()
export class PolicyAssignment implements OnApplicationBootstrap {
  private readonly logger = new Logger(PolicyAssignment.name);

  constructor(
    private readonly policies: PolicyRegistry,
    private readonly experiments: ExperimentRepository,
    private readonly transactions: Transactions,
    private readonly locks: Locks,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const inForce = await this.transactions.run((tx) => this.experiments.inForce(tx));
    for (const experiment of inForce) {
      const missing = [experiment.champion, experiment.challenger].filter((key) => !this.policies.has(key));
      if (missing.length > 0) {
        this.logger.warn(`experiment ${experiment.id} (${experiment.status}) names ${missing.join(', ')}, not in POLICIES_DIR: it does not apply to new cases`);
      }
    }
  }

  async assign(tx: Tx, requests: readonly PolicyRequest[]): Promise<Assigned[]> {
    // Shared: openings do not wait on each other, and a start, stop or promotion (exclusive) waits
    // for those in flight; an opening that waited reads after the change committed, never half of it.
    await this.locks.takeShared(tx, AdvisoryLock.Experiments);
    const inForce = await this.experiments.inForce(tx);
    const promoted = inForce.filter((e) => e.status === 'promoted' && this.policies.has(e.challenger));
    const replaced = replacements(promoted);
    const running = new Map(inForce.filter((e) => e.status === 'running' && this.policies.has(e.challenger)).map((e) => [e.champion, e]));
    return requests.map(({ debtorExternalId, segment, policyKey }) => {
      const chosen = this.policies.choose(policyKey, segment);
      if (policyKey) return { policy: chosen, arm: null };
      const replacement = replaced.get(chosen.key);
      const policy = replacement ? this.policies.choose(replacement, undefined) : chosen;
      const experiment = running.get(policy.key);
      if (!experiment || (experiment.segment !== null && experiment.segment !== segment)) return { policy, arm: null };
      const bucket = bucketOf(experiment.id, debtorExternalId);
      const arm = armOf(bucket, experiment.challengerShare);
      const { id, name, champion, challenger, challengerShare } = experiment;
      return {
        policy: arm === 'challenger' ? this.policies.choose(challenger, undefined) : policy,
        arm: { experiment: { id, name, champion, challenger, challengerShare }, arm, bucket },
      };
    });
  }

  /** Stores the arms of the cases just opened (in the opening's transaction). */
  record(tx: Tx, arms: readonly { caseId: string; arm: ArmAssignment }[], at: Date): Promise<void> {
    return this.experiments.insertArms(
      tx,
      arms.map(({ caseId, arm }) => ({ caseId, experimentId: arm.experiment.id, arm: arm.arm, bucket: arm.bucket })),
      at,
    );
  }
}
