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

  /** The key an `Authorization: Bearer <secret>` header carries, or the words of the 401 when it carries none. */
  bearer(authorization: string | undefined): ApiKey | { refusal: string } {
    const secret = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!secret) return { refusal: 'an API key is required: Authorization: Bearer <key>' };
    return this.find(secret) ?? { refusal: "unknown API key: the Bearer key matches none of this service's keys" };
  }

  get size(): number {
    return this.keys.length;
  }
}
