import { Writable } from 'node:stream';
import pino from 'pino';
import { loggedPath, PERSONAL_KEYS, quietFramework, redactionPaths, requestId } from './logging';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestId', () => {
  it.each(['abc-123', '3f2c6a1e-9a55-4b7e-8d0f-0c6c1c1b2a10', 'trace.span:01_x'])('keeps the sane token %p', (id) => {
    expect(requestId(id)).toBe(id);
  });

  it('keeps the first of repeated headers', () => {
    expect(requestId(['first-id', 'second-id'])).toBe('first-id');
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['spaces', 'a b'],
    ['a log-injection attempt', 'id\n{"level":60}'],
    ['an over-long token', 'x'.repeat(129)],
    ['a leading dash', '-abc'],
    ['an email address', 'ana@example.test'],
  ])('replaces %s with a UUID', (_label, header) => {
    expect(requestId(header)).toMatch(UUID);
  });
});

describe('redactionPaths', () => {
  it('lists each key from the top level down to the given depth', () => {
    expect(redactionPaths(['email'], 2)).toEqual(['email', '*.email', '*.*.email']);
  });

  it('keeps personal data out of pino output at any listed depth', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (chunk, _encoding, done) => {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ redact: { paths: redactionPaths(PERSONAL_KEYS), censor: '[redacted]' } }, sink);
    logger.info({
      email: 'ana@example.test',
      stepId: 's-1',
      data: { recipient: 'ana@example.test', debtor: { name: 'Ana', phone: '+4915100000', address: { line1: 'Street 1' } } },
      mail: { to: 'x@y.z', text: 'Dear Ana' },
    });
    const logged = JSON.parse(lines[0]!);
    expect(JSON.stringify(logged)).not.toMatch(/ana@|Ana|\+49|Street|x@y|Dear/);
    expect(logged).toMatchObject({
      email: '[redacted]',
      stepId: 's-1',
      data: { recipient: '[redacted]', debtor: { name: '[redacted]', phone: '[redacted]', address: '[redacted]' } },
      mail: { to: '[redacted]', text: '[redacted]' },
    });
  });
});

describe('loggedPath', () => {
  it('drops the query string and redacts an unsubscribe token', () => {
    expect(loggedPath('/v1/cases?debtor=CUST-42')).toBe('/v1/cases');
    expect(loggedPath('/v1/unsubscribe/hMH-TZDe6QleeRRUAOXe8dXaYxlOsmm_')).toBe('/v1/unsubscribe/[redacted]');
    expect(loggedPath('/v1/unsubscribe/abc?x=1')).toBe('/v1/unsubscribe/[redacted]');
    expect(loggedPath('/v1/cases/123')).toBe('/v1/cases/123');
  });
});

describe('quietFramework', () => {
  const calls: [string, unknown[]][] = [];
  const record =
    (level: string) =>
    (...args: unknown[]) =>
      void calls.push([level, args]);
  const sut = quietFramework({ log: record('log'), error: record('error'), warn: record('warn'), debug: record('debug') });
  beforeEach(() => (calls.length = 0));

  it.each(['InstanceLoader', 'RoutesResolver', 'RouterExplorer'])("logs Nest's %s lines at debug", (context) => {
    sut.log('Mapped {/v1/cases, GET} route', context);
    expect(calls).toEqual([['debug', ['Mapped {/v1/cases, GET} route', context]]]);
  });

  it("keeps the service's own lines, and Nest's start line, at info", () => {
    sut.log('Nest application successfully started', 'NestApplication');
    sut.log('reconcile: 3', 'JobWorkers');
    expect(calls.map(([level]) => level)).toEqual(['log', 'log']);
  });

  it('passes warnings and errors through', () => {
    sut.warn('careful', 'Holidays');
    sut.error('broken', 'stack', 'ExceptionsHandler');
    expect(calls).toEqual([
      ['warn', ['careful', 'Holidays']],
      ['error', ['broken', 'stack', 'ExceptionsHandler']],
    ]);
  });
});
