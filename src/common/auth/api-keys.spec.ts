import type { ApiKey } from '../../config/config.schema';
import { ApiKeyRing } from './api-keys';

const ingest: ApiKey = { name: 'erp', role: 'ingest', secret: 'erp-secret-0123456789' };
const auditor: ApiKey = { name: 'audit', role: 'auditor', secret: 'audit-secret-0123456789' };
const admin: ApiKey = { name: 'ops', role: 'admin', secret: 'ops:secret:with:colons' };

describe('ApiKeyRing', () => {
  const sut = new ApiKeyRing([ingest, auditor, admin]);

  it('finds each key by its exact secret', () => {
    expect(sut.find('erp-secret-0123456789')).toEqual(ingest);
    expect(sut.find('audit-secret-0123456789')).toEqual(auditor);
    expect(sut.find('ops:secret:with:colons')).toEqual(admin);
  });

  it.each([
    ['an unknown secret', 'not-a-known-secret-at-all'],
    ['an empty secret', ''],
    ['a prefix of a secret', 'erp-secret-012345678'],
    ['a secret with a trailing character', 'erp-secret-0123456789x'],
    ['a secret in another case', 'ERP-SECRET-0123456789'],
    ['a secret with surrounding whitespace', ' erp-secret-0123456789 '],
    ['a key name', 'erp'],
  ])('finds nothing for %s', (_label, secret) => {
    expect(sut.find(secret)).toBeUndefined();
  });

  it('finds nothing in an empty ring', () => {
    const empty = new ApiKeyRing([]);
    expect(empty.find('erp-secret-0123456789')).toBeUndefined();
    expect(empty.size).toBe(0);
  });

  it('reports its size', () => {
    expect(sut.size).toBe(3);
  });

  it('is not affected by later changes to the array it was built from', () => {
    const keys = [ingest];
    const ring = new ApiKeyRing(keys);
    keys.push(auditor);
    expect(ring.find(auditor.secret)).toBeUndefined();
    expect(ring.size).toBe(1);
  });
});
