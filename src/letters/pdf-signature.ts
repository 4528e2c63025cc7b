/**
 * PAdES B-B signatures for letter PDFs: an incremental update that adds a signature field whose
 * /Contents is a detached CMS (CAdES) SignedData over the rest of the file.
 * Pure functions, no Nest: the caller supplies the credentials and the signing time.
 */
import { createHash, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { plainAddPlaceholder } from '@signpdf/placeholder-plain';
import { SignPdf } from '@signpdf/signpdf';
import { DEFAULT_SIGNATURE_LENGTH, SUBFILTER_ETSI_CADES_DETACHED, Signer } from '@signpdf/utils';
import * as asn1js from 'asn1js';
import forge from 'node-forge';
import * as pkijs from 'pkijs';

export interface SigningCredentials {
  /** PKCS#8 (or PKCS#1) PEM of the RSA signing key. */
  privateKeyPem: string;
  certificatePem: string;
  /** Intermediate certificates, embedded so a verifier can build the path without fetching them. */
  chainPem: string[];
  commonName: string;
}

export interface SignatureMeta {
  reason: string;
  name: string;
  location?: string;
  contactInfo?: string;
  /** Written to the signature dictionary's /M: PAdES forbids a signingTime attribute in the CMS. */
  signingTime: Date;
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  documentSigning: '1.3.6.1.4.1.311.10.3.12',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
};

/** Reads the key and its certificate (plus any other certificates, as the chain) from a PKCS#12 file. */
export function credentialsFromP12(p12: Buffer, passphrase: string): SigningCredentials {
  let pfx: forge.pkcs12.Pkcs12Pfx;
  try {
    pfx = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(p12.toString('binary'))), false, passphrase);
  } catch (error) {
    // forge's own messages never echo the passphrase; ours must not either.
    throw new Error('cannot read the PKCS#12 signing credentials: the file is damaged or the passphrase is wrong', { cause: error });
  }
  const bags = (type: string) => pfx.getBags({ bagType: type })[type] ?? [];
  const key = [...bags(OID.pkcs8ShroudedKeyBag), ...bags(OID.keyBag)].find((bag) => bag.key)?.key;
  if (!key) throw new Error('the PKCS#12 signing credentials hold no private key');
  const certificates = bags(OID.certBag).flatMap((bag) => (bag.cert ? [bag.cert] : []));
  // A P12 may carry the whole chain in any order: the signer is the one whose public key is ours.
  const matches = (cert: forge.pki.Certificate) => {
    const publicKey = cert.publicKey as forge.pki.rsa.PublicKey;
    return publicKey.n.equals(key.n) && publicKey.e.equals(key.e);
  };
  const certificate = certificates.find(matches);
  if (!certificate) throw new Error('the PKCS#12 signing credentials hold no certificate for their private key');
  const cn = certificate.subject.getField('CN') as { value?: string } | null;
  return {
    privateKeyPem: forge.pki.privateKeyInfoToPem(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key))),
    certificatePem: forge.pki.certificateToPem(certificate),
    chainPem: certificates.filter((cert) => cert !== certificate).map((cert) => forge.pki.certificateToPem(cert)),
    commonName: cn?.value ?? '',
  };
}

/** A self-signed certificate for development and tests: readers show the signature as valid but its signer as untrusted. */
export function developmentCredentials(commonName: string, now: Date): SigningCredentials {
  // forge hands RSA key generation to Node's native crypto when it can, so this takes milliseconds.
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  // RFC 5280: a positive serial of at most 20 bytes; clearing the top bit keeps the INTEGER positive.
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  cert.serialNumber = serial.toString('hex');
  // Back-dated by a day so a verifier whose clock is a little behind does not see a not-yet-valid certificate.
  cert.validity.notBefore = new Date(now.getTime() - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now);
  cert.validity.notAfter.setUTCFullYear(now.getUTCFullYear() + 10);
  const name = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: commonName },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true },
    { name: 'extKeyUsage', emailProtection: true, [OID.documentSigning]: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return {
    privateKeyPem: forge.pki.privateKeyInfoToPem(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keys.privateKey))),
    certificatePem: forge.pki.certificateToPem(cert),
    chainPem: [],
    commonName,
  };
}

/** Signs a PDF (pdfkit's output or any PDF with a classic xref table) with a PAdES B-B signature. */
export async function signPdf(pdf: Buffer, credentials: SigningCredentials, meta: SignatureMeta): Promise<Buffer> {
  const signer = new CadesSigner(credentials);
  const withPlaceholder = plainAddPlaceholder({
    pdfBuffer: pdf,
    reason: meta.reason,
    name: meta.name,
    location: meta.location ?? '',
    contactInfo: meta.contactInfo ?? '',
    signingTime: meta.signingTime,
    subFilter: SUBFILTER_ETSI_CADES_DETACHED,
    // The CMS embeds every certificate; the rest (attributes, signature) fits well within 4 KiB.
    signatureLength: Math.max(DEFAULT_SIGNATURE_LENGTH, signer.certificateBytes + 4096),
  });
  return new SignPdf().sign(withPlaceholder, signer, meta.signingTime);
}

const pemToDer = (pem: string) => Buffer.from(pem.replace(/-----(BEGIN|END) [^-]+-----|\s/g, ''), 'base64');
const toArrayBuffer = (bytes: Buffer) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

/** Builds the detached CMS SignedData for the bytes @signpdf hands over (the file less the /Contents placeholder). */
class CadesSigner extends Signer {
  private readonly crypto = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto });
  private readonly signerDer: Buffer;
  private readonly certificates: pkijs.Certificate[];
  readonly certificateBytes: number;

  constructor(private readonly credentials: SigningCredentials) {
    super();
    this.signerDer = pemToDer(credentials.certificatePem);
    const ders = [this.signerDer, ...credentials.chainPem.map(pemToDer)];
    this.certificates = ders.map((der) => pkijs.Certificate.fromBER(der));
    this.certificateBytes = ders.reduce((sum, der) => sum + der.length, 0);
  }

  override async sign(content: Buffer): Promise<Buffer> {
    const [signerCert] = this.certificates as [pkijs.Certificate];
    const signedData = new pkijs.SignedData({
      version: 1,
      // Detached: the PDF bytes are not repeated inside the CMS.
      encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
      certificates: this.certificates,
      signerInfos: [
        new pkijs.SignerInfo({
          version: 1,
          sid: new pkijs.IssuerAndSerialNumber({ issuer: signerCert.issuer, serialNumber: signerCert.serialNumber }),
          signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes: this.signedAttributes(content, signerCert) }),
        }),
      ],
    });
    const key = await webcrypto.subtle.importKey(
      'pkcs8',
      createPrivateKey(this.credentials.privateKeyPem).export({ type: 'pkcs8', format: 'der' }),
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    // With signed attributes present, pkijs signs their DER encoding (not the content).
    await signedData.sign(key, 0, 'SHA-256', undefined, this.crypto);
    // RFC 4055: sha256WithRSAEncryption carries NULL parameters (pkijs leaves them out); this field is not signed.
    signedData.signerInfos[0]!.signatureAlgorithm.algorithmParams = new asn1js.Null();
    const contentInfo = new pkijs.ContentInfo({ contentType: OID.signedData, content: signedData.toSchema(true) });
    return Buffer.from(contentInfo.toSchema().toBER());
  }

  /** contentType, messageDigest and ESS signingCertificateV2 (which binds the signer's certificate: CAdES requires it). */
  private signedAttributes(content: Buffer, signerCert: pkijs.Certificate): pkijs.Attribute[] {
    const sha256 = (bytes: Buffer) => toArrayBuffer(createHash('sha256').update(bytes).digest());
    // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256 (so left out in DER), certHash, issuerSerial }
    const essCertId = new asn1js.Sequence({
      value: [
        new asn1js.OctetString({ valueHex: sha256(this.signerDer) }),
        new pkijs.IssuerSerial({
          issuer: new pkijs.GeneralNames({ names: [new pkijs.GeneralName({ type: 4, value: signerCert.issuer })] }),
          serialNumber: signerCert.serialNumber,
        }).toSchema(),
      ],
    });
    const attributes = [
      new pkijs.Attribute({ type: OID.contentType, values: [new asn1js.ObjectIdentifier({ value: OID.data })] }),
      new pkijs.Attribute({ type: OID.messageDigest, values: [new asn1js.OctetString({ valueHex: sha256(content) })] }),
      new pkijs.Attribute({
        type: OID.signingCertificateV2,
        values: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertId] })] })],
      }),
    ];
    // DER orders a SET OF by encoding; some verifiers re-encode the attributes before checking the signature.
    const der = (attribute: pkijs.Attribute) => Buffer.from(attribute.toSchema().toBER());
    return attributes.sort((a, b) => Buffer.compare(der(a), der(b)));
  }
}
