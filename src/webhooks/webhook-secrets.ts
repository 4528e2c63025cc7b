import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { SecretBox } from './secret-box';

/** The endpoints' signing secrets, sealed at rest under WEBHOOK_SECRETS_KEY. */
@Injectable()
export class WebhookSecrets {
  private readonly box?: SecretBox;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.box = config.WEBHOOK_SECRETS_KEY ? new SecretBox(config.WEBHOOK_SECRETS_KEY) : undefined;
  }

  /** Refuses, before anything is saved, when this process has no key to seal with. */
  seal(endpointId: string, secret: string): string {
    if (!this.box) throw new DomainError('unprocessable', 'webhook endpoints need WEBHOOK_SECRETS_KEY, the key their secrets are sealed with; it is not set');
    return this.box.seal(endpointId, secret);
  }

  /** The secret, or undefined when this process has no key or not the one it was sealed with. */
  open(endpointId: string, sealed: string): string | undefined {
    try {
      return this.box?.open(endpointId, sealed);
    } catch {
      return undefined;
    }
  }
}
