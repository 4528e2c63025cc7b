import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { ApiKey } from '../../config/config.schema';
import { ApiKeyRing } from './api-keys';
import { routeAccess } from './roles.decorator';

export type AuthenticatedRequest = Request & { apiKey?: ApiKey };

/** Global guard: every route needs `Authorization: Bearer <secret>` with a permitted role, unless @Public. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ApiKeyRing) private readonly keys: ApiKeyRing,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const access = routeAccess(this.reflector, [context.getHandler(), context.getClass()]);
    if (access.public) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const secret = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const key = secret ? this.keys.find(secret) : undefined;
    if (!key) throw new UnauthorizedException('an API key is required: Authorization: Bearer <key>');
    const allowed = access.roles;
    if (key.role !== 'admin' && !allowed.includes(key.role)) {
      throw new ForbiddenException(`role "${key.role}" may not use this route (allowed: ${['admin', ...allowed].join(', ')})`);
    }
    request.apiKey = key;
    return true;
  }
}
