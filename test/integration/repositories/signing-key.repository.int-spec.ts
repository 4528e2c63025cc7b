import { randomUUID } from 'node:crypto';
import forge from 'node-forge';
import { SigningKeyRepository } from '../../../src/letters/signing-key.repository';
import { type IntegrationContext, startIntegration } from '../../support/integration';

describe('SigningKeyRepository', () => {
  let ctx: IntegrationContext;
  let sut: SigningKeyRepository;
  const at = new Date('2026-03-10T08:00:00Z');
  const later = new Date('2026-03-11T09:30:00Z');

  beforeAll(async () => {
    ctx = await startIntegration('signing_key_repo');
    sut = ctx.get(SigningKeyRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  const keyName = () => `test-${randomUUID()}`;
  const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
  const key = (n: number) => ({ privateKeyPem: pem('PRIVATE KEY', `key-${n}`), certificatePem: pem('CERTIFICATE', `cert-${n}`) });

  it('find reads nothing for a name never kept', async () => {
    expect(await sut.find(keyName())).toBeUndefined();
  });

  it('keep stores a key under its name and answers it as stored; find reads it back', async () => {
    const name = keyName();
    const kept = await sut.keep(name, key(1), at);
    expect(kept).toEqual({ ...key(1), createdAt: at });
    expect(await sut.find(name)).toEqual(kept);
    // Another name is another key.
    expect(await sut.find(keyName())).toBeUndefined();
  });

  it('keep twice keeps the first key: the second answers the stored one, not its own', async () => {
    const name = keyName();
    await sut.keep(name, key(1), at);
    expect(await sut.keep(name, key(2), later)).toEqual({ ...key(1), createdAt: at });
    expect(await sut.find(name)).toEqual({ ...key(1), createdAt: at });
  });

  it('processes keeping their own keys at once all end up with the same one', async () => {
    const name = keyName();
    const answers = await Promise.all([1, 2, 3, 4].map((n) => sut.keep(name, key(n), new Date(at.getTime() + n * 1000))));
    const stored = (await sut.find(name))!;
    expect([key(1), key(2), key(3), key(4)]).toContainEqual({ privateKeyPem: stored.privateKeyPem, certificatePem: stored.certificatePem });
    expect(answers).toEqual([stored, stored, stored, stored]);
  });

  it('holds the development key the service made at start: a real key and certificate that belong together', async () => {
    const stored = (await sut.find('development'))!;
    expect(stored).toEqual({ privateKeyPem: expect.any(String), certificatePem: expect.any(String), createdAt: expect.any(Date) });
    const privateKey = forge.pki.privateKeyFromPem(stored.privateKeyPem);
    const certificate = forge.pki.certificateFromPem(stored.certificatePem);
    expect((certificate.publicKey as forge.pki.rsa.PublicKey).n.equals(privateKey.n)).toBe(true);
  });
});
