import type { AppConfig } from './config.schema';

/** Injection token for the parsed configuration (the schema type is not a class). */
export const APP_CONFIG = Symbol('APP_CONFIG');
export type { AppConfig };
