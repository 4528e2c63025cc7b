import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import PDFDocument from 'pdfkit';
import { credentialsFromP12, developmentCredentials, signPdf, type SigningCredentials } from './pdf-signature';

const NOW = new Date('2026-11-23T09:30:00Z');
const META = { reason: 'Demand for payment L-2026-000042', name: 'Acme Collections Ltd', location: 'London', signingTime: NOW };

/** A one-page pdfkit PDF; content streams uncompressed so the test can tamper with the text. */
function letterPdf(): Promise<Buffer> {
  const doc = new PDFDocument({ compress: false, info: { CreationDate: NOW } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.text('Demand for payment');
  doc.end();
  return done;
}

/** A PKCS#12 file as an HSM export or a CA would hand it over: an unrelated certificate first, then the signer's. */
function p12Of(credentials: SigningCredentials, other: SigningCredentials, passphrase: string): Buffer {
  const key = forge.pki.privateKeyFromPem(credentials.privateKeyPem);
  const certs = [other.certificatePem, credentials.certificatePem].map((pem) => forge.pki.certificateFromPem(pem));
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certs, passphrase, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

describe('PDF signature', () => {
  let dir: string;
  let credentials: SigningCredentials;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pdf-signature-'));
    credentials = developmentCredentials('Acme Collections Ltd', NOW);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** poppler's verdict (it exits 0 whether or not the signature holds, so the text is what counts). */
  async function pdfsig(pdf: Buffer, name: string): Promise<string> {
    const file = join(dir, name);
    writeFileSync(file, pdf);
    const { stdout } = await promisify(execFile)('/usr/bin/pdfsig', [file]);
    return stdout;
  }

  it('signs a pdfkit PDF with a PAdES signature that poppler verifies', async () => {
    const pdf = await letterPdf();

    const signed = await signPdf(pdf, credentials, META);
    const report = await pdfsig(signed, 'signed.pdf');

    expect(report).toContain('Signature Validation: Signature is Valid.');
    expect(report).toContain('Signature Type: ETSI.CAdES.detached');
    expect(report).toContain('Signer Certificate Common Name: Acme Collections Ltd');
    expect(report).toContain('Signing Hash Algorithm: SHA-256');
    expect(report).toContain('Total document signed');
  });

  it('appends the signature as an incremental update, leaving the original bytes untouched', async () => {
    const pdf = await letterPdf();

    const signed = await signPdf(pdf, credentials, META);

    expect(signed.length).toBeGreaterThan(pdf.length);
    expect(signed.subarray(0, pdf.length).equals(pdf)).toBe(true);
  });

  it('is reported as broken once a byte of the signed text changes', async () => {
    const signed = await signPdf(await letterPdf(), credentials, META);
    // "Demand f" as pdfkit writes it in the page content stream; "Demand g" after the flip.
    const at = signed.indexOf('<44656d616e642066>') + 16;
    expect(at).toBeGreaterThan(16);
    expect(at).toBeLessThan(signed.indexOf('/Contents <'));
    const tampered = Buffer.from(signed);
    tampered[at] = '7'.charCodeAt(0);

    const report = await pdfsig(tampered, 'tampered.pdf');

    expect(report).not.toContain('Signature is Valid.');
    expect(report).toMatch(/Digest Mismatch|document (was|has been) changed/i);
  });

  it('reads the key, its certificate and the rest of the chain back from a PKCS#12 file', async () => {
    const other = developmentCredentials('Acme Issuing CA', NOW);

    const read = credentialsFromP12(p12Of(credentials, other, 'secret'), 'secret');

    expect(read.commonName).toBe('Acme Collections Ltd');
    expect(read.certificatePem).toBe(credentials.certificatePem);
    expect(read.chainPem).toEqual([other.certificatePem]);
    expect(forge.pki.privateKeyToPem(forge.pki.privateKeyFromPem(read.privateKeyPem))).toBe(
      forge.pki.privateKeyToPem(forge.pki.privateKeyFromPem(credentials.privateKeyPem)),
    );
    const report = await pdfsig(await signPdf(await letterPdf(), read, META), 'from-p12.pdf');
    expect(report).toContain('Signature Validation: Signature is Valid.');
  });

  it('refuses a wrong passphrase without repeating it', () => {
    const p12 = p12Of(credentials, developmentCredentials('Acme Issuing CA', NOW), 'secret');

    let error: unknown;
    try {
      credentialsFromP12(p12, 'wrong-horse-battery');
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/passphrase is wrong/);
    expect((error as Error).message).not.toContain('wrong-horse-battery');
  });

  it('refuses a file that is not PKCS#12', () => {
    expect(() => credentialsFromP12(Buffer.from('not a p12'), 'secret')).toThrow(/PKCS#12/);
  });
});
