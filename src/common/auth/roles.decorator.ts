import { SetMetadata } from '@nestjs/common';
import type { Role } from '../../config/config.schema';

export const ROLES_KEY = 'dunning:roles';
export const PUBLIC_KEY = 'dunning:public';

/** Roles allowed on a route; `admin` is always allowed. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
/** A route open without a key (health only). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
