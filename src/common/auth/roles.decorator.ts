import { SetMetadata } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { Role } from '../../config/config.schema';

export const ROLES_KEY = 'dunning:roles';
export const PUBLIC_KEY = 'dunning:public';

/** Roles allowed on a route; `admin` is always allowed. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
/** A route open without a key (health only). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** Who may call a route: public, or the listed roles (admin always; an empty list means admin only). */
export type RouteAccess = { public: true } | { public: false; roles: Role[] };

/**
 * Reads @Public and @Roles the way the ApiKeyGuard enforces them (handler over class), so the
 * guard and the OpenAPI document can never disagree about a route.
 */
export function routeAccess(reflector: Reflector, targets: Parameters<Reflector['getAllAndOverride']>[1]): RouteAccess {
  if (reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return { public: true };
  return { public: false, roles: reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets) ?? [] };
}
