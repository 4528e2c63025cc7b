import { readFileSync } from 'node:fs';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import forge from 'node-forge';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { credentialsFromP12, developmentCredentials, type SignatureMeta, signPdf, type SigningCredentials } from './pdf-signature';
import { SigningKeyRepository } from './signing-key.repository';

const DEVELOPMENT_KEY = 'development';

/**
 * Signs every letter PDF (PAdES) with the creditor's certificate: the PKCS#12 of SIGNING_P12_FILE,
 * or else a self-signed development certificate made at first start and kept in the database,
 * which the log names at every start so no one mistakes it for a real one.
 */
@Injectable()
export class LetterSigner implements OnModuleInit {
  private readonly logger = new Logger(LetterSigner.name);
  private credentials?: Promise<SigningCredentials>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly keys: SigningKeyRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.load();
  }

  async sign(pdf: Buffer, meta: Omit<SignatureMeta, 'name' | 'contactInfo'>): Promise<Buffer> {
    const credentials = await this.load();
    return signPdf(pdf, credentials, { ...meta, name: this.config.CREDITOR_NAME, contactInfo: this.config.CREDITOR_CONTACT_EMAIL });
  }

  private load(): Promise<SigningCredentials> {
    this.credentials ??= this.read().catch((error: unknown) => {
      this.credentials = undefined; // a database that was away is tried again on the next letter
      throw error;
    });
    return this.credentials;
  }

  private async read(): Promise<SigningCredentials> {
    const { SIGNING_P12_FILE: file, SIGNING_P12_PASSPHRASE: passphrase } = this.config;
    if (file) {
      let credentials: SigningCredentials;
      try {
        credentials = credentialsFromP12(readFileSync(file), passphrase ?? '');
      } catch (error) {
        // A wrong file or passphrase stops the boot, naming the setting (never the passphrase).
        throw new Error(`SIGNING_P12_FILE: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      this.logger.log(`letters are signed with the certificate of ${credentials.commonName} from SIGNING_P12_FILE`);
      return credentials;
    }
    let stored = await this.keys.find(DEVELOPMENT_KEY);
    if (!stored) {
      const made = developmentCredentials(this.config.CREDITOR_NAME, this.clock.now());
      stored = await this.keys.keep(DEVELOPMENT_KEY, made, this.clock.now());
      this.logger.warn('generated a self-signed development certificate for signing letters; set SIGNING_P12_FILE to sign with the creditor’s own');
    }
    const certificate = forge.pki.certificateFromPem(stored.certificatePem);
    const commonName = (certificate.subject.getField('CN') as { value: string } | null)?.value ?? this.config.CREDITOR_NAME;
    this.logger.warn(`letters are signed with a self-signed development certificate (CN=${commonName}); readers will show its issuer as unknown`);
    return { privateKeyPem: stored.privateKeyPem, certificatePem: stored.certificatePem, chainPem: [], commonName };
  }
}
