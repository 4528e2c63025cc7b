import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '../../config/config.schema';

const digest = (secret: string) => createHash('sha256').update(secret).digest();

/** Looks a presented secret up in constant time per key. */
export class ApiKeyRing {
  private readonly keys: { key: ApiKey; digest: Buffer }[];

  constructor(keys: ApiKey[]) {
    this.keys = keys.map((key) => ({ key, digest: digest(key.secret) }));
  }

  find(secret: string): ApiKey | undefined {
    const presented = digest(secret);
    let found: ApiKey | undefined;
    for (const entry of this.keys) if (timingSafeEqual(entry.digest, presented)) found = entry.key;
    return found;
  }

  get size(): number {
    return this.keys.length;
  }
}
