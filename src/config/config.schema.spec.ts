import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.schema';

/** Runs loadConfig and returns the ConfigError it throws (fails the test if it does not throw one). */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

const SECRET_A = 'aaaaaaaaaaaaaaaa'; // 16 characters
const SECRET_B = 'bbbbbbbbbbbbbbbbbbbb';

describe('loadConfig', () => {
  describe('defaults', () => {
    const sut = loadConfig({});

    it('listens on port 3000 and runs every role', () => {
      expect(sut.PORT).toBe(3000);
      expect(sut.APP_ROLE).toBe('all');
    });

    it('turns the default ISO durations into milliseconds', () => {
      expect(sut.RECONCILE_EVERY).toBe(60_000);
      expect(sut.SCHEDULE_HORIZON).toBe(21_600_000);
      expect(sut.SEAL_EVERY).toBe(300_000);
      expect(sut.STEP_BACKOFF).toBe(30_000);
    });

    it('has the documented defaults for the rest', () => {
      expect(sut).toMatchObject({
        DATABASE_POOL_SIZE: 20,
        SMTP_POOL_SIZE: 5,
        POLICIES_DIR: './policies',
        TEMPLATES_DIR: './templates',
        STEP_ATTEMPTS: 6,
        WORKER_CONCURRENCY: 16,
        WORKER_PROCESSES: 0,
        DEFAULT_TIMEZONE: 'UTC',
        DEFAULT_LOCALE: 'en',
        LOG_LEVEL: 'info',
        API_KEYS: [],
      });
      expect(sut.SMTP_URL).toBeUndefined();
    });

    it('without DATABASE_URL uses the embedded PostgreSQL, and without REDIS_URL keeps the queues in PostgreSQL', () => {
      expect(sut).toMatchObject({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5433/dunning', embeddedPostgres: true, QUEUE_BACKEND: 'postgres' });
      expect(sut.REDIS_URL).toBeUndefined();
      expect(loadConfig({ EMBEDDED_POSTGRES_PORT: '6543' }).DATABASE_URL).toBe('postgres://postgres@127.0.0.1:6543/dunning');
    });

    it('with the URLs set uses those servers, and the queues run on Redis', () => {
      const config = loadConfig({ DATABASE_URL: 'postgres://u@db:5432/x', REDIS_URL: 'redis://cache:6379' });
      expect(config).toMatchObject({
        DATABASE_URL: 'postgres://u@db:5432/x',
        embeddedPostgres: false,
        QUEUE_BACKEND: 'redis',
        REDIS_URL: 'redis://cache:6379',
      });
    });

    it('QUEUE_BACKEND=postgres keeps the queues in PostgreSQL even with REDIS_URL set', () => {
      expect(loadConfig({ REDIS_URL: 'redis://cache:6379', QUEUE_BACKEND: 'postgres' }).QUEUE_BACKEND).toBe('postgres');
    });

    it('QUEUE_BACKEND=redis without REDIS_URL stops the boot naming REDIS_URL', () => {
      expect(() => loadConfig({ QUEUE_BACKEND: 'redis' })).toThrow(/REDIS_URL: is required when QUEUE_BACKEND is redis/);
    });

    it('REDIS_CLUSTER_NODES runs the queues on a Redis Cluster, its prefix hash-tagged by default', () => {
      const config = loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:6379, rediss://app:s%40cret@redis-2.internal:6380' });
      expect(config).toMatchObject({
        QUEUE_BACKEND: 'redis',
        QUEUE_PREFIX: '{bull}',
        redis: {
          kind: 'cluster',
          nodes: [
            { host: 'redis-1', port: 6379 },
            { host: 'redis-2.internal', port: 6380 },
          ],
          username: 'app',
          password: 's@cret',
          tls: true,
        },
      });
      expect(loadConfig({ REDIS_URL: 'redis://cache:6379' })).toMatchObject({ QUEUE_PREFIX: 'bull', redis: { kind: 'server', url: 'redis://cache:6379' } });
    });

    it('a Redis Cluster refuses a prefix without a hash tag, a node without a port, and REDIS_URL beside it, naming each', () => {
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:1', QUEUE_PREFIX: 'dunning' })).toThrow(/QUEUE_PREFIX: must start with a hash tag such as \{dunning\}/);
      expect(loadConfig({ REDIS_CLUSTER_NODES: 'a:1', QUEUE_PREFIX: '{dunning}' }).QUEUE_PREFIX).toBe('{dunning}');
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:1,b' })).toThrow(/REDIS_CLUSTER_NODES: "b" must be host:port/);
      // A password in a bad node is not echoed into the boot log.
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis://:hunter2@b' })).toThrow(/REDIS_CLUSTER_NODES: "redis:\/\/b" must be/);
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://cache:6379' })).toThrow(/REDIS_CLUSTER_NODES: is set together with REDIS_URL/);
    });

    it('DATABASE_READ_URL needs the primary it replicates', () => {
      expect(() => loadConfig({ DATABASE_READ_URL: 'postgres://r@replica:5432/x' })).toThrow(/DATABASE_READ_URL: needs DATABASE_URL/);
      expect(() => loadConfig({ DATABASE_URL: 'postgres://u@db:5432/x', DATABASE_READ_URL: 'mysql://r@replica/x' })).toThrow(
        /DATABASE_READ_URL: must be a URL/,
      );
      expect(loadConfig({ DATABASE_URL: 'postgres://u@db:5432/x', DATABASE_READ_URL: 'postgres://r@replica:5432/x' }).DATABASE_READ_URL).toBe(
        'postgres://r@replica:5432/x',
      );
    });

    it('keeps evidence forever by default, and stops the boot on a retention below the legal minimum, naming the setting', () => {
      expect(loadConfig({})).toMatchObject({ RETENTION_TOUCHES: 'keep', RETENTION_DISPATCHES: 'keep', RETENTION_LEGAL_MINIMUM: 'P5Y' });
      expect(loadConfig({ RETENTION_TOUCHES: 'P5Y', RETENTION_DISPATCHES: 'P6Y6M' }).RETENTION_DISPATCHES).toBe('P6Y6M');
      expect(configError({ RETENTION_TOUCHES: 'P4Y', RETENTION_DISPATCHES: 'P59M' }).message).toMatch(
        /RETENTION_TOUCHES: P4Y keeps less than the legal minimum P5Y[^\n]*\n\s+RETENTION_DISPATCHES: P59M keeps less/,
      );
      expect(configError({ RETENTION_LEGAL_MINIMUM: 'P7Y', RETENTION_TOUCHES: 'P6Y' }).message).toMatch(
        /RETENTION_TOUCHES: P6Y keeps less than the legal minimum P7Y/,
      );
      expect(configError({ RETENTION_TOUCHES: 'P30D' }).message).toMatch(/RETENTION_TOUCHES: must be keep or a period of years and months/);
      expect(configError({ RETENTION_LEGAL_MINIMUM: 'keep' }).message).toMatch(/RETENTION_LEGAL_MINIMUM: must be a period/);
    });

    it('treats empty and undefined variables as unset', () => {
      const config = loadConfig({ PORT: '', APP_ROLE: undefined, RECONCILE_EVERY: '', API_KEYS: '' });
      expect(config.PORT).toBe(3000);
      expect(config.APP_ROLE).toBe('all');
      expect(config.RECONCILE_EVERY).toBe(60_000);
      expect(config.API_KEYS).toEqual([]);
    });

    it('ignores variables it does not know', () => {
      expect(loadConfig({ HOME: '/root', PATH: '/usr/bin' }).PORT).toBe(3000);
    });
  });

  describe('given values', () => {
    it('parses numbers, enums, URLs, zones and durations', () => {
      const sut = loadConfig({
        PORT: '8080',
        APP_ROLE: 'worker',
        DATABASE_URL: 'postgresql://u:p@db:5432/x',
        REDIS_URL: 'rediss://cache:6380',
        SMTP_URL: 'smtps://mail:465',
        RECONCILE_EVERY: 'PT30S',
        SCHEDULE_HORIZON: 'P1D',
        DEFAULT_TIMEZONE: 'Asia/Shanghai',
        DEFAULT_LOCALE: 'zh-CN',
        WORKER_CONCURRENCY: '4',
        WORKER_PROCESSES: '3',
      });
      expect(sut).toMatchObject({
        PORT: 8080,
        APP_ROLE: 'worker',
        DATABASE_URL: 'postgresql://u:p@db:5432/x',
        REDIS_URL: 'rediss://cache:6380',
        SMTP_URL: 'smtps://mail:465',
        RECONCILE_EVERY: 30_000,
        SCHEDULE_HORIZON: 86_400_000,
        DEFAULT_TIMEZONE: 'Asia/Shanghai',
        DEFAULT_LOCALE: 'zh-CN',
        WORKER_CONCURRENCY: 4,
        WORKER_PROCESSES: 3,
      });
    });
  });

  describe('bad values', () => {
    it.each([
      ['PORT', 'abc'],
      ['PORT', '0'],
      ['PORT', '65536'],
      ['PORT', '80.5'],
      ['RECONCILE_EVERY', 'soon'],
      ['RECONCILE_EVERY', '60000'],
      ['RECONCILE_EVERY', 'PT0S'],
      ['RECONCILE_EVERY', '-PT1M'],
      ['SCHEDULE_HORIZON', 'six hours'],
      ['APP_ROLE', 'both'],
      ['DEFAULT_TIMEZONE', 'Mars/Base'],
      ['REDIS_URL', 'http://x'],
      ['REDIS_URL', 'not a url'],
      ['DATABASE_URL', 'mysql://db/x'],
      ['SMTP_URL', 'http://mail'],
      ['DEFAULT_LOCALE', 'de'],
      ['LOG_LEVEL', 'verbose'],
      ['WORKER_CONCURRENCY', '-1'],
      ['WORKER_PROCESSES', '-1'],
      ['WORKER_PROCESSES', 'two'],
      ['WORKER_PROCESSES', '65'],
      ['STEP_ATTEMPTS', 'many'],
      ['PAYMENT_LINK', 'http://pay.example.com/{invoice}'],
      ['PAYMENT_LINK', 'pay here'],
      ['SIGNING_P12_FILE', '/nonexistent/creditor.p12'],
      ['SEAL_IMAGE', '/nonexistent/seal.png'],
      ['SEAL_IMAGE', 'package.json'],
    ])('%s=%s throws a ConfigError naming the variable', (name, value) => {
      const error = configError({ [name]: value });
      expect(error.message).toMatch(new RegExp(`^\\s*${name}: `, 'm'));
    });

    it('refuses worker processes whose ports (PORT+1 to PORT+n) would pass 65535', () => {
      expect(configError({ PORT: '65534', WORKER_PROCESSES: '2' }).message).toContain("WORKER_PROCESSES: its processes' ports PORT+1 to PORT+2 go past 65535");
      expect(loadConfig({ PORT: '65533', WORKER_PROCESSES: '2' }).WORKER_PROCESSES).toBe(2);
    });

    it('takes an https payment link, or http on this machine, and a PNG seal', () => {
      expect(loadConfig({ PAYMENT_LINK: 'https://pay.example.com/i/{invoice}?case={case}' }).PAYMENT_LINK).toBe(
        'https://pay.example.com/i/{invoice}?case={case}',
      );
      expect(loadConfig({ PAYMENT_LINK: 'http://localhost:8080/pay' }).PAYMENT_LINK).toBe('http://localhost:8080/pay');
      const dir = mkdtempSync(join(tmpdir(), 'seal-'));
      try {
        const seal = join(dir, 'seal.png');
        writeFileSync(seal, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]));
        expect(loadConfig({ SEAL_IMAGE: seal }).SEAL_IMAGE).toBe(seal);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('does not name variables that are fine', () => {
      const error = configError({ PORT: 'abc', APP_ROLE: 'api' });
      expect(error.message).toContain('PORT');
      expect(error.message).not.toContain('APP_ROLE');
    });

    it('names several bad variables in one message', () => {
      const error = configError({
        PORT: 'abc',
        RECONCILE_EVERY: 'soon',
        APP_ROLE: 'both',
        DEFAULT_TIMEZONE: 'Mars/Base',
        REDIS_URL: 'http://x',
      });
      for (const name of ['PORT', 'RECONCILE_EVERY', 'APP_ROLE', 'DEFAULT_TIMEZONE', 'REDIS_URL']) {
        expect(error.message).toMatch(new RegExp(`^\\s*${name}: `, 'm'));
      }
    });

    it('tells what a duration should look like', () => {
      expect(configError({ RECONCILE_EVERY: 'soon' }).message).toContain('"soon"');
    });
  });

  describe('API_KEYS', () => {
    it('parses a name:role:secret list', () => {
      const sut = loadConfig({ API_KEYS: `erp:ingest:${SECRET_A}, audit:auditor:${SECRET_B}` });
      expect(sut.API_KEYS).toEqual([
        { name: 'erp', role: 'ingest', secret: SECRET_A },
        { name: 'audit', role: 'auditor', secret: SECRET_B },
      ]);
    });

    it('keeps colons inside the secret', () => {
      const sut = loadConfig({ API_KEYS: 'ops:admin:abc:def:ghi:jkl:mnop' });
      expect(sut.API_KEYS).toEqual([{ name: 'ops', role: 'admin', secret: 'abc:def:ghi:jkl:mnop' }]);
    });

    it('accepts every role', () => {
      const roles = ['ingest', 'finance', 'operator', 'collector', 'qa', 'auditor', 'admin'];
      const sut = loadConfig({ API_KEYS: roles.map((role) => `k-${role}:${role}:${SECRET_A}-${role}`).join(',') });
      expect(sut.API_KEYS.map((key) => key.role)).toEqual(roles);
    });

    it('ignores empty entries', () => {
      expect(loadConfig({ API_KEYS: `,erp:ingest:${SECRET_A},,` }).API_KEYS).toHaveLength(1);
    });

    it('accepts a 16-character secret', () => {
      expect(loadConfig({ API_KEYS: `erp:ingest:${SECRET_A}` }).API_KEYS[0]!.secret).toHaveLength(16);
    });

    it('rejects an unknown role, naming the key and the role', () => {
      const error = configError({ API_KEYS: `erp:root:${SECRET_A}` });
      expect(error.message).toMatch(/^\s*API_KEYS: /m);
      expect(error.message).toContain('"erp"');
      expect(error.message).toContain('"root"');
    });

    it('rejects a secret shorter than 16 characters, naming the key', () => {
      const error = configError({ API_KEYS: 'erp:ingest:aaaaaaaaaaaaaaa' }); // 15 characters
      expect(error.message).toMatch(/^\s*API_KEYS: /m);
      expect(error.message).toContain('"erp"');
      expect(error.message).toMatch(/16/);
    });

    it('rejects a duplicate name, naming it', () => {
      const error = configError({ API_KEYS: `erp:ingest:${SECRET_A},erp:admin:${SECRET_B}` });
      expect(error.message).toMatch(/^\s*API_KEYS: /m);
      expect(error.message).toContain('"erp"');
    });

    it('rejects two keys sharing one secret, naming the second', () => {
      const error = configError({ API_KEYS: `erp:admin:${SECRET_A},bi:auditor:${SECRET_A}` });
      expect(error.message).toMatch(/^\s*API_KEYS: .*"bi" reuses the secret/m);
    });

    it.each(['erp', 'erp:ingest', 'erp:ingest:', `:ingest:${SECRET_A}`])('rejects the incomplete entry %p', (entry) => {
      expect(configError({ API_KEYS: entry }).message).toMatch(/^\s*API_KEYS: .*name:role:secret/m);
    });

    it('names every bad key in one message', () => {
      const error = configError({ API_KEYS: `a:root:${SECRET_A},b:admin:short,c:admin:${SECRET_A},c:admin:${SECRET_B}` });
      expect(error.message).toContain('"a"');
      expect(error.message).toContain('"b"');
      expect(error.message).toContain('"c"');
    });

    it('names bad keys together with other bad variables', () => {
      const error = configError({ API_KEYS: `erp:root:${SECRET_A}`, PORT: 'abc' });
      expect(error.message).toMatch(/^\s*API_KEYS: /m);
      expect(error.message).toMatch(/^\s*PORT: /m);
    });
  });
  describe('delivery status in', () => {
    it('reads the SNS topics as a list and the SendGrid key as SendGrid shows it', () => {
      const key = (generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
      const sut = loadConfig({
        SES_SNS_TOPIC_ARNS: 'arn:aws:sns:eu-west-1:123456789012:a, arn:aws-cn:sns:cn-north-1:123456789012:b',
        SENDGRID_WEBHOOK_PUBLIC_KEY: key,
      });
      expect(sut.SES_SNS_TOPIC_ARNS).toEqual(['arn:aws:sns:eu-west-1:123456789012:a', 'arn:aws-cn:sns:cn-north-1:123456789012:b']);
      expect(sut.SENDGRID_WEBHOOK_PUBLIC_KEY).toBe(key);
      expect(loadConfig({}).SES_SNS_TOPIC_ARNS).toEqual([]);
    });

    it('stops the boot naming a topic that is no ARN, and a key that is no P-256 public key', () => {
      expect(configError({ SES_SNS_TOPIC_ARNS: 'ses-events' }).message).toMatch(/SES_SNS_TOPIC_ARNS: "ses-events" must be an SNS topic ARN/);
      const rsa = (generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
      for (const bad of ['not-a-key', rsa])
        expect(configError({ SENDGRID_WEBHOOK_PUBLIC_KEY: bad }).message).toMatch(/SENDGRID_WEBHOOK_PUBLIC_KEY: must be the base64 ECDSA P-256/);
    });
  });
});
