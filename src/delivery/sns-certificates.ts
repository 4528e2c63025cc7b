import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';

/** Where SNS serves its signing certificates and subscription links: its own regional hosts, over HTTPS. */
const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;
const FETCH_TIMEOUT_MS = 5000;
const MAX_CACHED = 32;

/** Whether a URL is one of SNS's own (https, an sns.<region>.amazonaws.com host, no port or credentials). */
export function isSnsUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && SNS_HOST.test(url.hostname) && url.port === '' && url.username === '' && url.password === '';
}

/** The HTTP side of SNS: a GET of one of its URLs. A port so that tests can serve the certificate AWS would. */
@Injectable()
export class SnsHttp {
  async get(url: string): Promise<string> {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
    if (!response.ok) throw new Error(`SNS answered ${response.status} for ${new URL(url).pathname}`);
    return response.text();
  }
}

/**
 * SNS signing certificates by their `SigningCertURL`: only from SNS's own hosts, fetched once and
 * kept (SNS rotates them under new URLs), and only while valid and issued to sns.amazonaws.com.
 */
@Injectable()
export class SnsCertificates {
  private readonly logger = new Logger(SnsCertificates.name);
  private readonly cache = new Map<string, X509Certificate>();

  constructor(
    private readonly http: SnsHttp,
    private readonly clock: Clock,
  ) {}

  /**
   * The certificate's public key; or why the URL or its certificate cannot be trusted (`refusal`),
   * or why it could not be had now (`unavailable`: SNS retries what is not answered).
   */
  async keyFor(url: string): Promise<KeyObject | { refusal: string } | { unavailable: string }> {
    if (!isSnsUrl(url) || !new URL(url).pathname.endsWith('.pem')) return { refusal: 'SigningCertURL is not an SNS certificate URL' };
    let certificate = this.cache.get(url);
    if (!certificate) {
      try {
        certificate = new X509Certificate(await this.http.get(url));
      } catch (error) {
        this.logger.warn(`SNS signing certificate ${url} not had: ${(error as Error).message}`);
        return { unavailable: 'the signing certificate could not be fetched; SNS will send the message again' };
      }
      if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(url, certificate);
    }
    const now = this.clock.now().getTime();
    if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo)) return { refusal: 'the signing certificate is not valid now' };
    if (!/^CN=sns\.amazonaws\.com(\.cn)?$/m.test(certificate.subject)) return { refusal: 'the signing certificate is not issued to sns.amazonaws.com' };
    return createPublicKey(certificate.publicKey.export({ type: 'spki', format: 'pem' }));
  }
}
