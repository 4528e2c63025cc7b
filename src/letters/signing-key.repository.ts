import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';

/** A signing key kept by the deployment: PEM key and certificate. */
export interface StoredSigningKey {
  privateKeyPem: string;
  certificatePem: string;
  createdAt: Date;
}

/** The development signing key, shared by every process of a deployment that has no PKCS#12 of its own. */
@Injectable()
export class SigningKeyRepository extends SqlRepository {
  find(name: string): Promise<StoredSigningKey | undefined> {
    return this.row(
      undefined,
      `SELECT private_key AS "privateKeyPem", certificate AS "certificatePem", created_at AS "createdAt" FROM signing_keys WHERE name = $1`,
      [name],
    );
  }

  /** Keeps the key unless another process stored one first; returns the one stored. */
  async keep(name: string, key: Omit<StoredSigningKey, 'createdAt'>, at: Date): Promise<StoredSigningKey> {
    await this.run(undefined, `INSERT INTO signing_keys (name, private_key, certificate, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING`, [
      name,
      key.privateKeyPem,
      key.certificatePem,
      at,
    ]);
    return (await this.find(name))!;
  }
}
