import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EmailTemplates } from '../channels/email/email-templates';
import { SmsTemplates } from '../channels/sms/sms-templates';
import { readPolicyFiles } from './policy-files';
import type { PolicyDefinition, PolicyVersion } from '../domain/policy';

/** Policy files versioned in the database; a case keeps the version it started with. */
@Injectable()
export class PolicyRegistry implements OnModuleInit {
  private readonly current = new Map<string, PolicyVersion>();
  private readonly byId = new Map<string, PolicyVersion>();
  private defaultKey = '';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly templates: EmailTemplates,
    private readonly smsTemplates: SmsTemplates,
  ) {}

  async onModuleInit(): Promise<void> {
    const files = readPolicyFiles(this.config.POLICIES_DIR, (channel, name) => (channel === 'email' ? this.templates.has(name) : this.smsTemplates.has(name)));
    await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(727002)');
      for (const { definition, contentHash } of files) {
        const [existing] = await manager.query('SELECT id, version FROM policy_versions WHERE key = $1 AND content_hash = $2', [definition.key, contentHash]);
        let version: PolicyVersion;
        if (existing) {
          version = { id: existing.id, key: definition.key, version: existing.version, definition };
        } else {
          const [{ next }] = await manager.query('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM policy_versions WHERE key = $1', [definition.key]);
          version = { id: randomUUID(), key: definition.key, version: next, definition };
          await manager.query('INSERT INTO policy_versions (id, key, version, content_hash, definition, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
            version.id,
            version.key,
            version.version,
            contentHash,
            definition,
            this.clock.now(),
          ]);
        }
        this.current.set(definition.key, version);
        this.byId.set(version.id, version);
        if (definition.default) this.defaultKey = definition.key;
      }
    });
  }

  has(key: string): boolean {
    return this.current.has(key);
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

  /** A version by id, including versions no longer in the files (older cases keep theirs). */
  async byVersionId(id: string): Promise<PolicyVersion> {
    const cached = this.byId.get(id);
    if (cached) return cached;
    const [row] = await this.dataSource.query('SELECT id, key, version, definition FROM policy_versions WHERE id = $1', [id]);
    const version: PolicyVersion = { id: row.id, key: row.key, version: row.version, definition: row.definition as PolicyDefinition };
    this.byId.set(id, version);
    return version;
  }
}
