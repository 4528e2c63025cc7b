import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AdvisoryLock, Locks } from '../database/locks.repository';
import { Transactions } from '../database/transactions';
import { EmailTemplates } from '../channels/email/email-templates';
import { SmsTemplates } from '../channels/sms/sms-templates';
import { readPolicyFiles } from './policy-files';
import type { PolicyVersion } from '../domain/policy';
import { PolicyRepository } from './policy.repository';

/** Policy files versioned in the database; a case keeps the version it started with. */
@Injectable()
export class PolicyRegistry implements OnModuleInit {
  private readonly current = new Map<string, PolicyVersion>();
  private defaultKey = '';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: Transactions,
    private readonly locks: Locks,
    private readonly versions: PolicyRepository,
    private readonly clock: Clock,
    private readonly templates: EmailTemplates,
    private readonly smsTemplates: SmsTemplates,
  ) {}

  async onModuleInit(): Promise<void> {
    const files = readPolicyFiles(this.config.POLICIES_DIR, (channel, name) => (channel === 'email' ? this.templates.has(name) : this.smsTemplates.has(name)));
    await this.transactions.run(async (tx) => {
      // Processes booting together number a new version once.
      await this.locks.take(tx, AdvisoryLock.PolicyVersions);
      for (const { definition, contentHash } of files) {
        const existing = await this.versions.findByContent(tx, definition.key, contentHash);
        let version: PolicyVersion;
        if (existing) {
          version = { id: existing.id, key: definition.key, version: existing.version, definition };
        } else {
          version = { id: randomUUID(), key: definition.key, version: await this.versions.nextVersion(tx, definition.key), definition };
          await this.versions.insert(tx, version, contentHash, this.clock.now());
        }
        this.current.set(definition.key, version);
        if (definition.default) this.defaultKey = definition.key;
      }
    });
  }

  has(key: string): boolean {
    return this.current.has(key);
  }

  /** The segments the loaded policies match, sorted. */
  segments(): string[] {
    return [...new Set([...this.current.values()].flatMap((version) => version.definition.match?.segment ?? []))].sort();
  }

  /** The event's policy, else the first whose `match.segment` names the segment, else the default. */
  choose(policyKey: string | undefined, segment: string | undefined): PolicyVersion {
    if (policyKey) {
      const chosen = this.current.get(policyKey);
      if (chosen) return chosen;
    }
    if (segment) {
      for (const version of this.current.values()) {
        if (version.definition.match?.segment.includes(segment)) return version;
      }
    }
    return this.current.get(this.defaultKey)!;
  }
}
