import type { ApiKey } from '../../config/config.schema';
import type { ApiKeyRing } from './api-keys';

/** The challenge of every page that takes HTTP Basic (the queue dashboard, the API docs). */
export const BASIC_REALM = 'Basic realm="dunning"';

/**
 * The key named by HTTP Basic credentials: the user is the key's name, the password its secret.
 * The secret is looked up in constant time; the name must then match the key it found.
 */
export function basicKey(keys: ApiKeyRing, authorization: string | undefined): ApiKey | undefined {
  const encoded = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(authorization ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  // Secrets may contain ':' (see ApiKeyRing's tests); names may not (API_KEYS is name:role:secret).
  const key = keys.find(decoded.slice(colon + 1));
  return key && key.name === decoded.slice(0, colon) ? key : undefined;
}
