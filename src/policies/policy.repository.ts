import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import type { PolicyVersion } from '../domain/policy';

/** Policy versions: each distinct content of a policy file, numbered per key. */
@Injectable()
export class PolicyRepository extends SqlRepository {
  /** The version already stored for this content, if any. */
  findByContent(tx: Tx, key: string, contentHash: string): Promise<{ id: string; version: number } | undefined> {
    return this.row(tx, 'SELECT id, version FROM policy_versions WHERE key = $1 AND content_hash = $2', [key, contentHash]);
  }

  async nextVersion(tx: Tx, key: string): Promise<number> {
    return (await this.row<{ next: number }>(tx, 'SELECT COALESCE(MAX(version), 0) + 1 AS next FROM policy_versions WHERE key = $1', [key]))?.next ?? 1;
  }

  async insert(tx: Tx, version: PolicyVersion, contentHash: string, at: Date): Promise<void> {
    await this.run(tx, 'INSERT INTO policy_versions (id, key, version, content_hash, definition, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      version.id,
      version.key,
      version.version,
      contentHash,
      version.definition,
      at,
    ]);
  }
}
