import { CanActivate, ExecutionContext, HttpException, HttpStatus, Inject, Injectable, Logger, OnModuleDestroy, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiKeyRing } from '../common/auth/api-keys';
import { basicKey } from '../common/auth/basic-auth';
import { sidePool } from '../database/data-source';
import { watchRedisErrors } from '../common/connection-errors';
import { openRedis } from '../common/redis';

export const UNLIMITED = 'dunning:unlimited';
/** Routes that are never limited (health probes). */
export const Unlimited = () => SetMetadata(UNLIMITED, true);

/** Over the limit: how long to wait, and the sentence that says so. */
export class RateLimited extends HttpException {
  constructor(
    readonly retryAfterSeconds: number,
    limit: number,
    windowSeconds: number,
  ) {
    super(`rate limit: at most ${limit} requests per ${windowSeconds} s for this key; retry in ${retryAfterSeconds} s`, HttpStatus.TOO_MANY_REQUESTS);
  }
}

/**
 * RATE_LIMIT requests per RATE_LIMIT_WINDOW per API key (per client address without a known
 * key), counted where the queues live (Redis, or PostgreSQL's rate_limit_counters) so every API
 * process shares the allowance. If that store is unreachable, a per-process counter stands in
 * rather than refusing all.
 */
@Injectable()
export class RequestLimiter implements OnModuleDestroy {
  private readonly logger = new Logger(RequestLimiter.name);
  private readonly store: { close(): Promise<void> | void };
  private readonly limiter: RateLimiterStoreAbstract;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: ApiKeyRing,
  ) {
    const duration = Math.max(1, Math.round(config.RATE_LIMIT_WINDOW / 1000));
    const common = { points: config.RATE_LIMIT, duration, insuranceLimiter: new RateLimiterMemory({ points: config.RATE_LIMIT, duration }) };
    if (config.QUEUE_BACKEND === 'redis') {
      const redis = openRedis(config.redis, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
      watchRedisErrors(redis, 'the rate limiter', this.logger);
      this.store = { close: () => redis.disconnect() };
      this.limiter = new RateLimiterRedis({ ...common, storeClient: redis, keyPrefix: 'dunning:rate' });
    } else {
      const pool = sidePool(config, 'dunning rate limit', 2);
      this.store = { close: () => pool.end() };
      // The table comes with the migrations, so the store must not create it.
      this.limiter = new RateLimiterPostgres({
        ...common,
        storeClient: pool,
        storeType: 'pool',
        tableName: 'rate_limit_counters',
        tableCreated: true,
        keyPrefix: 'dunning:rate',
      });
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.store.close();
  }

  /**
   * Counts the request and sets the RateLimit headers; throws RateLimited (with Retry-After set) over the limit.
   * `tracker` counts it against another allowance than its caller's (a debtor's link, say).
   */
  async consume(request: Request, response: Response, tracker = this.tracker(request)): Promise<void> {
    response.setHeader('RateLimit-Limit', this.config.RATE_LIMIT);
    try {
      const used = await this.limiter.consume(tracker);
      response.setHeader('RateLimit-Remaining', used.remainingPoints);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        this.logger.warn(`rate limit not checked: ${(error as Error).message}`);
        return;
      }
      const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      response.setHeader('Retry-After', seconds);
      response.setHeader('RateLimit-Remaining', 0);
      throw new RateLimited(seconds, this.config.RATE_LIMIT, this.config.RATE_LIMIT_WINDOW / 1000);
    }
  }

  /** The key's name (never its secret), from a bearer or Basic header; else the client address. */
  private tracker(request: Request): string {
    const secret = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const key = secret ? this.keys.find(secret) : basicKey(this.keys, request.headers.authorization);
    return key ? `key:${key.name}` : `ip:${request.ip}`;
  }
}

/** The API's global guard: every route but the `@Unlimited` ones counts against the limit. */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly limiter: RequestLimiter,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(UNLIMITED, [context.getHandler(), context.getClass()])) return true;
    await this.limiter.consume(context.switchToHttp().getRequest<Request>(), context.switchToHttp().getResponse<Response>());
    return true;
  }
}

/** The same limit for Express routes outside Nest's guards (the dashboard, the docs), so guessing credentials there is limited too. */
export function limitRequests(limiter: RequestLimiter): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    limiter.consume(req, res).then(
      () => next(),
      (error: unknown) => {
        if (!(error instanceof RateLimited)) return next(error);
        res.status(429).json({ statusCode: 429, error: 'Too Many Requests', message: error.message });
      },
    );
  };
}
