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
    const key = this.keys.bearer(request.headers.authorization);
    if ('refusal' in key) throw new UnauthorizedException(key.refusal);
    const allowed = access.roles;
    if (key.role !== 'admin' && !allowed.includes(key.role)) {
      throw new ForbiddenException(`role "${key.role}" may not use this route (allowed: ${['admin', ...allowed].join(', ')})`);
    }
    request.apiKey = key;
    return true;
  }
}
