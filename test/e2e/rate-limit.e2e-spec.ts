import { bearer, startTestApp, type TestApp } from '../support/test-app';

describe('rate limits per API key', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await startTestApp('ratelimit', 11, { RATE_LIMIT: '3', RATE_LIMIT_WINDOW: 'PT1H' });
  });

  afterAll(async () => {
    await sut?.close();
  });

  it('answers 429 with Retry-After once a key has used its requests, while other keys and health go on', async () => {
    for (let i = 0; i < 3; i++) await sut.http.get('/v1/cases').set(bearer('finance')).expect(200);
    const refused = await sut.http.get('/v1/cases').set(bearer('finance')).expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body).toMatchObject({ statusCode: 429 });
    // Counted per key: the operator has its own allowance.
    await sut.http.get('/v1/cases').set(bearer('operator')).expect(200);
    for (let i = 0; i < 5; i++) await sut.http.get('/health/live').expect(200);
  });

  it('limits requests without a known key per address, before they are turned away', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await sut.http.get('/v1/cases').set('Authorization', `Bearer guess-${i}-0000000000000000`)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    // The dashboard and the docs (Express routes outside Nest's guards) share the address's allowance.
    const guess = `Basic ${Buffer.from('operator-key:not-the-secret-000000').toString('base64')}`;
    expect((await sut.http.get('/admin/queues').set('Authorization', guess)).status).toBe(429);
    expect((await sut.http.get('/docs-json').set('Authorization', guess)).status).toBe(429);
  });
});
