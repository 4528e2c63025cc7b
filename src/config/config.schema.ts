import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Duration } from 'luxon';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import '../domain/zod-words';
import { periodMonths, retentionProblem } from '../domain/evidence-partitions';
import { isCalendarPeriod } from '../domain/legal-clocks';

export const ROLES = ['ingest', 'finance', 'operator', 'collector', 'qa', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKey {
  name: string;
  role: Role;
  secret: string;
}

const isoDuration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const duration = Duration.fromISO(value);
      if (!duration.isValid || duration.toMillis() <= 0) {
        ctx.addIssue({ code: 'custom', message: `must be a positive ISO-8601 duration such as ${fallback}, got "${value}"` });
        return z.NEVER;
      }
      return duration.toMillis();
    });

/** A calendar period (P3Y, P6M, P10D) kept as text: years and months have no fixed length. */
const calendarPeriod = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine(isCalendarPeriod, { message: `must be a positive ISO-8601 calendar period such as ${fallback}` });

/** How long evidence is kept: `keep` (forever) or years and months; checked against the legal minimum in checkTogether. */
const retention = z
  .string()
  .default('keep')
  .refine((value) => value === 'keep' || periodMonths(value) !== undefined, { message: 'must be keep or a period of years and months such as P6Y' });

/** Per-jurisdiction overrides: "GB=P6Y,FR=P5Y" (ISO 3166 country codes). */
const periodsByJurisdiction = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const periods: Record<string, string> = {};
    for (const entry of value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const [code, period] = entry.split('=').map((part) => part.trim());
      if (!code || !/^[A-Z]{2}$/.test(code) || !period || !isCalendarPeriod(period)) {
        ctx.addIssue({ code: 'custom', message: `entry "${entry}" must be COUNTRY=PERIOD, such as GB=P6Y` });
      } else {
        periods[code] = period;
      }
    }
    return periods;
  });

/** SNS topic ARNs, comma-separated: the topics whose messages (and subscription confirmations) are accepted. */
const SNS_TOPIC_ARN = /^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const topicArns = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const arns = value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
    for (const arn of arns)
      if (!SNS_TOPIC_ARN.test(arn))
        ctx.addIssue({ code: 'custom', message: `"${arn}" must be an SNS topic ARN, such as arn:aws:sns:eu-west-1:123456789012:ses-events` });
    return arns;
  });

/** SendGrid's verification key as its settings page shows it: base64 of the DER public key (ECDSA P-256). */
const ecPublicKey = z.string().refine((value) => {
  try {
    const key = createPublicKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  } catch {
    return false;
  }
}, 'must be the base64 ECDSA P-256 public key from the Event Webhook settings');

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `must be a URL with scheme ${protocols.join(' or ')}` },
  );

/**
 * A payment page URL template: {invoice} and {case}, where given, become the invoice's reference
 * and the case id. HTTPS, as debtors type card details there; plain HTTP only on this machine.
 */
const paymentLink = z.string().refine(
  (value) => {
    try {
      const url = new URL(value.replace(/\{(invoice|case)\}/g, 'x'));
      return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
    } catch {
      return false;
    }
  },
  { message: 'must be an https URL (http only for localhost); {invoice} and {case} in it become the invoice reference and the case id' },
);

/** A node of a Redis Cluster, as REDIS_CLUSTER_NODES names it. */
export interface RedisNode {
  host: string;
  port: number;
}

/** Where the service's Redis is: one server (REDIS_URL), or the seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES). */
export type RedisTarget = { kind: 'server'; url: string } | { kind: 'cluster'; nodes: RedisNode[]; username?: string; password?: string; tls: boolean };

/**
 * REDIS_CLUSTER_NODES: seed nodes of a Redis Cluster, comma-separated, each `host:port` or a
 * `redis://` / `rediss://` URL; credentials and TLS come from the first node that has them.
 */
const redisClusterNodes = z.string().transform((value, ctx) => {
  const nodes: RedisNode[] = [];
  let username: string | undefined;
  let password: string | undefined;
  let tls = false;
  for (const entry of value.split(',').map((part) => part.trim())) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(/^[a-z]+:\/\//.test(entry) ? entry : `redis://${entry}`);
    } catch {
      parsed = undefined;
    }
    const port = Number(parsed?.port);
    if (!parsed || !['redis:', 'rediss:'].includes(parsed.protocol) || !parsed.hostname || !Number.isInteger(port) || port < 1 || port > 65535) {
      // Never echo a password back into the boot log.
      ctx.addIssue({ code: 'custom', message: `"${entry.replace(/\/\/[^@/]*@/, '//')}" must be host:port or a redis:// or rediss:// URL with a port` });
      return z.NEVER;
    }
    nodes.push({ host: parsed.hostname.replace(/^\[|\]$/g, ''), port });
    username ??= parsed.username ? decodeURIComponent(parsed.username) : undefined;
    password ??= parsed.password ? decodeURIComponent(parsed.password) : undefined;
    tls ||= parsed.protocol === 'rediss:';
  }
  return { nodes, username, password, tls };
});

/** A file the service reads at start: it must be there and readable, else the boot stops naming the setting. */
const readableFile = (what: string, check?: (head: Buffer) => boolean) =>
  z.string().refine(
    (path) => {
      try {
        const head = readFileSync(path).subarray(0, 8);
        return check ? check(head) : true;
      } catch {
        return false;
      }
    },
    { message: `must be the path of a readable ${what}` },
  );
/** PNG or JPEG, the images PDF letters embed. */
const isImage = (head: Buffer) =>
  head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) || (head[0] === 0xff && head[1] === 0xd8);

const apiKeys = z
  .string()
  .default('')
  .transform((value, ctx): ApiKey[] => {
    const keys: ApiKey[] = [];
    for (const entry of value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const [name, role, ...rest] = entry.split(':');
      const secret = rest.join(':');
      if (!name || !role || !secret) {
        ctx.addIssue({ code: 'custom', message: `entry "${name ?? ''}:…" must be name:role:secret` });
      } else if (!(ROLES as readonly string[]).includes(role)) {
        ctx.addIssue({ code: 'custom', message: `key "${name}" has unknown role "${role}" (roles: ${ROLES.join(', ')})` });
      } else if (secret.length < 16) {
        ctx.addIssue({ code: 'custom', message: `key "${name}" has a secret shorter than 16 characters` });
      } else if (keys.some((key) => key.name === name)) {
        ctx.addIssue({ code: 'custom', message: `key name "${name}" appears twice` });
      } else if (keys.some((key) => key.secret === secret)) {
        // One secret must map to one key, or the role it grants would be ambiguous.
        ctx.addIssue({ code: 'custom', message: `key "${name}" reuses the secret of another key` });
      } else {
        keys.push({ name, role: role as Role, secret });
      }
    }
    return keys;
  });

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOST: z
    .string()
    .regex(/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/, 'must be an IP address or a host name')
    .default('127.0.0.1'),
  APP_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  WORKER_PROCESSES: z.coerce.number().int().min(0).max(64).default(0),
  DATABASE_URL: url(['postgres', 'postgresql']).optional(),
  DATABASE_POOL_SIZE: positiveInt(20),
  DATABASE_READ_URL: url(['postgres', 'postgresql']).optional(),
  DATABASE_READ_POOL_SIZE: positiveInt(5),
  EMBEDDED_POSTGRES_DIR: z.string().min(1).default('./var/postgres'),
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(5433),
  REDIS_URL: url(['redis', 'rediss']).optional(),
  REDIS_CLUSTER_NODES: redisClusterNodes.optional(),
  QUEUE_BACKEND: z.enum(['redis', 'postgres']).optional(),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.{}-]{1,64}$/, 'must be 1 to 64 letters, digits or _ . - { }')
    .optional(),
  SMTP_URL: url(['smtp', 'smtps']).optional(),
  SMTP_POOL_SIZE: positiveInt(5),
  OUTBOX_DIR: z.string().min(1).default('./var/outbox'),
  MAIL_FROM: z.string().min(3).default('Accounts Receivable <billing@example.com>'),
  API_KEYS: apiKeys,
  POLICIES_DIR: z.string().min(1).default('./policies'),
  TEMPLATES_DIR: z.string().min(1).default('./templates'),
  COMPLIANCE_FILE: z.string().min(1).default('./compliance.yaml'),
  RECONCILE_EVERY: isoDuration('PT1M'),
  SCHEDULE_HORIZON: isoDuration('PT6H'),
  SEAL_EVERY: isoDuration('PT5M'),
  PARTITIONS_AHEAD: z.coerce.number().int().min(1).max(24).default(3),
  PARTITION_CHECK_EVERY: isoDuration('PT6H'),
  STEP_ATTEMPTS: positiveInt(6),
  STEP_BACKOFF: isoDuration('PT30S'),
  OUTCOME_PATIENCE: isoDuration('PT15M'),
  STALLED_AFTER: isoDuration('PT30S'),
  WORKER_CONCURRENCY: positiveInt(16),
  DEFAULT_TIMEZONE: z
    .string()
    .default('UTC')
    .refine((zone) => IANAZone.isValidZone(zone), { message: 'must be an IANA time zone such as Europe/Berlin' }),
  DEFAULT_LOCALE: z.enum(['en', 'zh-CN']).default('en'),
  PUBLIC_URL: url(['http', 'https']).default('http://localhost:3000'),
  CREDITOR_NAME: z.string().trim().min(1).default('Accounts Receivable'),
  CREDITOR_ADDRESS: z.string().trim().min(1).optional(),
  CREDITOR_CONTACT_NAME: z.string().trim().min(1).default('Collections team'),
  CREDITOR_CONTACT_PHONE: z.string().trim().min(1).optional(),
  CREDITOR_CONTACT_EMAIL: z.email('must be an email address').optional(),
  PAYMENT_PAYEE: z.string().trim().min(1).optional(),
  PAYMENT_BANK: z.string().trim().min(1).optional(),
  PAYMENT_ACCOUNT: z.string().trim().min(1).max(100).optional(),
  PAYMENT_LINK: paymentLink.optional(),
  DISPUTE_EMAIL: z.email('must be an email address').optional(),
  DISPUTE_PHONE: z.string().trim().min(1).optional(),
  DISPUTE_URL: url(['http', 'https']).optional(),
  SELF_SERVICE_SECRET: z.string().min(32, 'must have at least 32 characters').optional(),
  SELF_SERVICE_LINK_TTL: isoDuration('P30D'),
  SIGNING_P12_FILE: readableFile('PKCS#12 (.p12) file').optional(),
  SIGNING_P12_PASSPHRASE: z.string().optional(),
  SEAL_IMAGE: readableFile('PNG or JPEG image', isImage).optional(),
  LETTER_DEADLINE: calendarPeriod('P10D'),
  LIMITATION_PERIOD: calendarPeriod('P3Y'),
  LIMITATION_PERIODS: periodsByJurisdiction,
  LIMITATION_WARN_DAYS: positiveInt(90),
  GUARANTEE_PERIOD: calendarPeriod('P6M'),
  GUARANTEE_WARN_DAYS: positiveInt(30),
  LEGAL_CHECK_EVERY: isoDuration('P1D'),
  PROMISE_GRACE: calendarPeriod('P2D'),
  COMMITMENT_CHECK_EVERY: isoDuration('PT5M'),
  SMS_URL: url(['http', 'https']).optional(),
  SMS_API_KEY: z.string().min(8).optional(),
  SES_SNS_TOPIC_ARNS: topicArns,
  SENDGRID_WEBHOOK_PUBLIC_KEY: ecPublicKey.optional(),
  AGENCY_NAME: z.string().trim().min(1).default('Collection agency'),
  AGENCY_COMMISSION_RATE: z
    .string()
    .regex(/^0(\.\d{1,4})?$/, 'must be a fraction below 1 such as "0.25"')
    .default('0.25'),
  AGENCY_WEBHOOK_URL: url(['http', 'https']).optional(),
  AGENCY_WEBHOOK_SECRET: z.string().min(16, 'must have at least 16 characters').optional(),
  WEBHOOK_SECRETS_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (32 random bytes, e.g. `openssl rand -hex 32`)')
    .optional(),
  WEBHOOK_ALLOW_PRIVATE: z.enum(['on', 'off'], { error: 'must be on or off' }).default('off'),
  WEBHOOK_TIMEOUT: isoDuration('PT10S').refine((ms) => ms <= 30_000, { message: 'must be at most PT30S' }),
  WEBHOOK_ATTEMPTS: positiveInt(8),
  WEBHOOK_BACKOFF: isoDuration('PT30S'),
  WEBHOOK_DISABLE_AFTER: positiveInt(10),
  WEBHOOK_SWEEP_EVERY: isoDuration('PT5S'),
  QA_FILE: z.string().min(1).default('./qa.yaml'),
  QA_SCORING: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  QA_SCORING_EVERY: isoDuration('PT30S'),
  QA_SCORING_BATCH: positiveInt(200),
  QA_SCORING_MAX_LAG: isoDuration('PT10M'),
  RETENTION_LEGAL_MINIMUM: z
    .string()
    .default('P5Y')
    .refine((value) => periodMonths(value) !== undefined, { message: 'must be a period of years and months such as P5Y' }),
  RETENTION_TOUCHES: retention,
  RETENTION_DISPATCHES: retention,
  BATCH_CHUNK: positiveInt(200),
  BATCH_STALL_AFTER: isoDuration('PT2M'),
  RATE_LIMIT: positiveInt(1200),
  RATE_LIMIT_WINDOW: isoDuration('PT1M'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

type Settings = z.output<typeof configSchema>;

/** On a Redis Cluster every key of a queue must hash to one slot: BullMQ asks for a hash-tagged prefix. */
const HASH_TAGGED = /^\{[^{}]+\}/;

/**
 * The settings, with the stores resolved: without DATABASE_URL the service runs its own embedded
 * PostgreSQL (`embeddedPostgres`), and the queues run on Redis (`redis`, one server or a cluster)
 * only when REDIS_URL or REDIS_CLUSTER_NODES is set.
 */
export type AppConfig = Omit<Settings, 'DATABASE_URL' | 'QUEUE_BACKEND' | 'REDIS_URL' | 'REDIS_CLUSTER_NODES' | 'QUEUE_PREFIX'> & {
  DATABASE_URL: string;
  embeddedPostgres: boolean;
  QUEUE_PREFIX: string;
  REDIS_URL?: string;
} & ({ QUEUE_BACKEND: 'redis'; redis: RedisTarget } | { QUEUE_BACKEND: 'postgres' });

function resolveStores(settings: Settings): AppConfig {
  const { REDIS_CLUSTER_NODES, ...rest } = settings;
  const stores = {
    ...rest,
    DATABASE_URL: settings.DATABASE_URL ?? `postgres://postgres@127.0.0.1:${settings.EMBEDDED_POSTGRES_PORT}/dunning`,
    embeddedPostgres: settings.DATABASE_URL === undefined,
    QUEUE_PREFIX: settings.QUEUE_PREFIX ?? (REDIS_CLUSTER_NODES ? '{bull}' : 'bull'),
  };
  // checkTogether has refused QUEUE_BACKEND=redis without either, and both together.
  const redis: RedisTarget | undefined = REDIS_CLUSTER_NODES
    ? { kind: 'cluster', ...REDIS_CLUSTER_NODES }
    : settings.REDIS_URL
      ? { kind: 'server', url: settings.REDIS_URL }
      : undefined;
  return redis && settings.QUEUE_BACKEND !== 'postgres' ? { ...stores, QUEUE_BACKEND: 'redis', redis } : { ...stores, QUEUE_BACKEND: 'postgres' };
}

/** Settings that only make sense together. */
function checkTogether(config: Settings): string[] {
  const problems: string[] = [];
  if (config.QUEUE_BACKEND === 'redis' && !config.REDIS_URL && !config.REDIS_CLUSTER_NODES)
    problems.push('  REDIS_URL: is required when QUEUE_BACKEND is redis (or REDIS_CLUSTER_NODES for a Redis Cluster)');
  if (config.REDIS_URL && config.REDIS_CLUSTER_NODES) problems.push('  REDIS_CLUSTER_NODES: is set together with REDIS_URL; set one of them');
  if (config.REDIS_CLUSTER_NODES && config.QUEUE_PREFIX !== undefined && !HASH_TAGGED.test(config.QUEUE_PREFIX))
    problems.push(
      `  QUEUE_PREFIX: must start with a hash tag such as {${config.QUEUE_PREFIX.replace(/[{}]/g, '') || 'bull'}} on a Redis Cluster (REDIS_CLUSTER_NODES)`,
    );
  if (config.SIGNING_P12_PASSPHRASE !== undefined && !config.SIGNING_P12_FILE) problems.push('  SIGNING_P12_PASSPHRASE: is set but SIGNING_P12_FILE is not');
  if (config.PAYMENT_BANK && !config.PAYMENT_ACCOUNT) problems.push('  PAYMENT_BANK: needs PAYMENT_ACCOUNT, the account at that bank');
  if (config.DATABASE_READ_URL && !config.DATABASE_URL) problems.push('  DATABASE_READ_URL: needs DATABASE_URL, the primary it replicates');
  for (const setting of ['RETENTION_TOUCHES', 'RETENTION_DISPATCHES'] as const) {
    const problem = retentionProblem(config[setting], config.RETENTION_LEGAL_MINIMUM);
    if (problem) problems.push(`  ${setting}: ${problem}`);
  }
  if (config.PORT + config.WORKER_PROCESSES > 65535)
    problems.push(`  WORKER_PROCESSES: its processes' ports PORT+1 to PORT+${config.WORKER_PROCESSES} go past 65535`);
  return problems;
}

export class ConfigError extends Error {}

/** Parses the environment once; every bad variable is named in one message. */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = configSchema.safeParse(cleaned);
  const lines = result.success ? checkTogether(result.data) : result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  if (!result.success || lines.length > 0) throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  return resolveStores(result.data);
}
