import { CanActivate, ExecutionContext, HttpException, HttpStatus, Inject, Injectable, Logger, OnModuleDestroy, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiKeyRing } from './auth/api-keys';

export const UNLIMITED = 'dunning:unlimited';
/** Routes that are never limited (health probes). */
export const Unlimited = () => SetMetadata(UNLIMITED, true);

/**
 * RATE_LIMIT requests per RATE_LIMIT_WINDOW per API key (per client address without a known
 * key), counted in Redis so every API process shares the allowance. Over it: 429 with
 * Retry-After. If Redis is unreachable, a per-process counter stands in rather than refusing all.
 */
@Injectable()
export class RateLimitGuard implements CanActivate, OnModuleDestroy {
  private readonly logger = new Logger(RateLimitGuard.name);
  private readonly redis: Redis;
  private readonly limiter: RateLimiterRedis;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: ApiKeyRing,
    private readonly reflector: Reflector,
  ) {
    this.redis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    this.redis.on('error', () => undefined);
    const duration = Math.max(1, Math.round(config.RATE_LIMIT_WINDOW / 1000));
    this.limiter = new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: 'dunning:rate',
      points: config.RATE_LIMIT,
      duration,
      insuranceLimiter: new RateLimiterMemory({ points: config.RATE_LIMIT, duration }),
    });
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(UNLIMITED, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const response = context.switchToHttp().getResponse<Response>();
    try {
      const used = await this.limiter.consume(this.tracker(request));
      response.setHeader('RateLimit-Limit', this.config.RATE_LIMIT);
      response.setHeader('RateLimit-Remaining', used.remainingPoints);
      return true;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        this.logger.warn(`rate limit not checked: ${(error as Error).message}`);
        return true;
      }
      const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      response.setHeader('Retry-After', seconds);
      response.setHeader('RateLimit-Limit', this.config.RATE_LIMIT);
      response.setHeader('RateLimit-Remaining', 0);
      throw new HttpException(`rate limit: at most ${this.config.RATE_LIMIT} requests per ${this.config.RATE_LIMIT_WINDOW / 1000} s for this key; retry in ${seconds} s`, HttpStatus.TOO_MANY_REQUESTS);
    }
  }

  /** The key's name (never its secret), resolved here so the order of the global guards does not matter. */
  private tracker(request: Request): string {
    const secret = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const key = secret ? this.keys.find(secret) : undefined;
    return key ? `key:${key.name}` : `ip:${request.ip}`;
  }
}
