/** Keys of four roles, one secret with colons, and their HTTP Basic headers: for the auth middlewares' tests. */
import type { ApiKey } from '../../config/config.schema';
import { ApiKeyRing } from './api-keys';

export const operator: ApiKey = { name: 'ops-desk', role: 'operator', secret: 'operator-secret-0123456789' };
export const admin: ApiKey = { name: 'root', role: 'admin', secret: 'admin:secret:with:colons' };
export const auditor: ApiKey = { name: 'audit', role: 'auditor', secret: 'auditor-secret-0123456789' };
export const finance: ApiKey = { name: 'books', role: 'finance', secret: 'finance-secret-0123456789' };
export const keys = new ApiKeyRing([operator, admin, auditor, finance]);

export const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
