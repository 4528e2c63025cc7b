import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { CURSOR, decodeCursor, pageOf } from '../common/cursor';
import { DomainError, NotFound, ValidationFailed } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Transactions } from '../database/transactions';
import { urlProblem } from './public-address';
import { newSecret } from './secret-box';
import { type DeliveryStatus, type Endpoint, WebhookRepository } from './webhook.repository';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSweep } from './webhook-sweep.service';

export interface NewEndpoint {
  url: string;
  kinds: string[];
  secret?: string;
  enabled: boolean;
  description?: string;
}

export interface EndpointChange {
  url?: string;
  kinds?: string[];
  enabled?: boolean;
  description?: string | null;
}

/** An endpoint as the API shows it: never its secret, which is shown once, on create and on rotate. */
const view = (endpoint: Endpoint) => ({
  id: endpoint.id,
  url: endpoint.url,
  kinds: endpoint.kinds,
  description: endpoint.description,
  enabled: endpoint.enabled,
  consecutiveFailures: endpoint.consecutiveFailures,
  disabledAt: endpoint.disabledAt,
  disabledReason: endpoint.disabledReason,
  createdAt: endpoint.createdAt,
  createdBy: endpoint.createdBy,
  updatedAt: endpoint.updatedAt,
});

/** Admins' webhook endpoints: subscribing, changing, re-enabling, reading the delivery log, replaying. */
@Injectable()
export class Webhooks {
  private readonly logger = new Logger(Webhooks.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: Transactions,
    private readonly webhooks: WebhookRepository,
    private readonly secrets: WebhookSecrets,
    private readonly sweep: WebhookSweep,
    private readonly clock: Clock,
  ) {}

  /** Subscribes an endpoint to the touches written from now on; answers it with its secret, this once. */
  async create(input: NewEndpoint, actor: string) {
    this.checkUrl(input.url);
    const id = randomUUID();
    const secret = input.secret ?? newSecret();
    const secretSealed = this.secrets.seal(id, secret);
    const now = this.clock.now();
    const endpoint: Endpoint = {
      id,
      url: input.url,
      kinds: [...new Set(input.kinds)],
      description: input.description ?? null,
      enabled: input.enabled,
      consecutiveFailures: 0,
      disabledAt: null,
      disabledReason: null,
      createdAt: now,
      createdBy: actor,
      updatedAt: now,
    };
    await this.transactions.run((tx) => this.webhooks.insertEndpoint(tx, { ...endpoint, secretSealed }));
    this.logger.log(`webhook endpoint ${id} created by ${actor} for ${endpoint.kinds.join(', ')}`);
    return { ...view(endpoint), secret };
  }

  async list(query: { cursor?: string; limit: number }) {
    const after = query.cursor ? decodeCursor(query.cursor, CURSOR.instantAndId) : undefined;
    const rows = await this.webhooks.endpoints(after && [new Date(after[0]), after[1]], query.limit + 1);
    const { page, nextCursor } = pageOf(rows, query.limit, (last) => [last.createdAt.toISOString(), last.id]);
    return { items: page.map(view), nextCursor };
  }

  async get(id: string) {
    return view(await this.endpoint(id));
  }

  /** Changes an endpoint; `enabled: true` re-enables a disabled one, its failure count back to 0. */
  async update(id: string, change: EndpointChange, actor: string) {
    if (change.url !== undefined) this.checkUrl(change.url);
    await this.transactions.run(async (tx) => {
      if (!(await this.webhooks.endpoint(tx, id, true))) throw new NotFound('webhook endpoint', id);
      await this.webhooks.updateEndpoint(tx, id, { ...change, kinds: change.kinds && [...new Set(change.kinds)] }, this.clock.now());
    });
    this.logger.log(`webhook endpoint ${id} changed by ${actor}: ${Object.keys(change).join(', ')}`);
    return this.get(id);
  }

  /** A new secret, in force for every attempt from now on; answered this once. */
  async rotate(id: string, actor: string) {
    await this.endpoint(id);
    const secret = newSecret();
    const secretSealed = this.secrets.seal(id, secret);
    await this.transactions.run(async (tx) => {
      if (!(await this.webhooks.endpoint(tx, id, true))) throw new NotFound('webhook endpoint', id);
      await this.webhooks.updateEndpoint(tx, id, { secretSealed }, this.clock.now());
    });
    this.logger.log(`webhook endpoint ${id}: secret rotated by ${actor}`);
    return { ...(await this.get(id)), secret };
  }

  async deliveries(id: string, query: { status?: DeliveryStatus; cursor?: string; limit: number }) {
    await this.endpoint(id);
    const after = query.cursor ? decodeCursor(query.cursor, CURSOR.instantAndId) : undefined;
    const rows = await this.webhooks.deliveries(id, { status: query.status }, after && [new Date(after[0]), after[1]], query.limit + 1);
    const { page, nextCursor } = pageOf(rows, query.limit, (last) => [last.createdAt.toISOString(), last.id]);
    return { items: page, nextCursor };
  }

  /** A delivery and every attempt of it, oldest first. */
  async delivery(id: string, deliveryId: string) {
    const delivery = await this.webhooks.delivery(undefined, id, deliveryId);
    if (!delivery) throw new NotFound('delivery', deliveryId);
    return { ...delivery, log: await this.webhooks.attempts(deliveryId) };
  }

  /**
   * Sends a settled delivery again, with the same webhook-id (receivers that keep ids drop it if
   * they had it) and a full set of retries. The endpoint must be enabled.
   */
  async replay(id: string, deliveryId: string, actor: string) {
    const reopened = await this.transactions.run(async (tx) => {
      const endpoint = await this.webhooks.endpoint(tx, id, true);
      if (!endpoint) throw new NotFound('webhook endpoint', id);
      if (!endpoint.enabled) throw new DomainError('conflict', `webhook endpoint ${id} is disabled: enable it (PATCH enabled: true) before replaying`);
      if (!(await this.webhooks.delivery(tx, id, deliveryId, true))) throw new NotFound('delivery', deliveryId);
      const row = await this.webhooks.reopen(tx, deliveryId);
      if (!row) throw new DomainError('conflict', `delivery ${deliveryId} is still pending: it is being delivered`);
      return row;
    });
    await this.sweep.enqueue([reopened]);
    this.logger.log(`delivery ${deliveryId} replayed by ${actor}`);
    return this.delivery(id, deliveryId);
  }

  private async endpoint(id: string): Promise<Endpoint> {
    const endpoint = await this.webhooks.endpoint(undefined, id);
    if (!endpoint) throw new NotFound('webhook endpoint', id);
    return endpoint;
  }

  private checkUrl(url: string): void {
    const problem = urlProblem(url, this.config.WEBHOOK_ALLOW_PRIVATE === 'on');
    if (problem) throw new ValidationFailed([{ field: 'body.url', reason: problem }]);
  }
}
