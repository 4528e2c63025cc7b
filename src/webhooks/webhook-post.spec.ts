import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EXCERPT_CHARS, postWebhook } from './webhook-post';

describe('postWebhook', () => {
  let server: Server;
  let base: string;
  const seen: { path: string; body: string; type: string | undefined }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', body, type: req.headers['content-type'] });
        if (req.url === '/ok') res.writeHead(204).end();
        else if (req.url === '/long') res.writeHead(500).end('x'.repeat(10_000));
        else if (req.url === '/redirect') res.writeHead(302, { Location: '/ok' }).end();
        else if (req.url === '/unauthorized') res.writeHead(401).end('bad signature');
        else if (req.url === '/busy') res.writeHead(429).end();
        // '/hang' never answers.
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const options = { timeoutMs: 2000, allowPrivate: true, keepExcerpt: true, receiver: 'endpoint' };

  it('posts the JSON body with the given headers and answers a 2xx as delivered', async () => {
    const outcome = await postWebhook(`${base}/ok`, { 'webhook-id': 'msg_1' }, '{"a":1}', options);
    expect(outcome).toMatchObject({ ok: true, statusCode: 204, error: null, permanent: false });
    expect(seen.at(-1)).toEqual({ path: '/ok', body: '{"a":1}', type: 'application/json' });
  });

  it('keeps at most a bounded excerpt of the answer, and none when told not to', async () => {
    const outcome = await postWebhook(`${base}/long`, {}, '{}', options);
    expect(outcome).toMatchObject({ ok: false, statusCode: 500, error: 'the endpoint answered HTTP 500', permanent: false });
    expect(outcome.excerpt).toHaveLength(EXCERPT_CHARS);
    expect((await postWebhook(`${base}/long`, {}, '{}', { ...options, keepExcerpt: false })).excerpt).toBeNull();
  });

  it('does not follow a redirect, and ends retries on a refusing 4xx but not on 429', async () => {
    expect(await postWebhook(`${base}/redirect`, {}, '{}', options)).toMatchObject({ ok: false, statusCode: 302, permanent: false });
    expect(seen.filter((entry) => entry.path === '/ok')).toHaveLength(1);
    expect(await postWebhook(`${base}/unauthorized`, {}, '{}', options)).toMatchObject({ statusCode: 401, permanent: true, excerpt: 'bad signature' });
    expect(await postWebhook(`${base}/busy`, {}, '{}', options)).toMatchObject({ statusCode: 429, permanent: false });
  });

  it('gives up on an endpoint that does not answer in time, for a retry', async () => {
    expect(await postWebhook(`${base}/hang`, {}, '{}', { ...options, timeoutMs: 100 })).toMatchObject({
      ok: false,
      statusCode: null,
      error: 'no answer within 0.1 s',
      permanent: false,
    });
  });

  it('refuses private addresses when they are not allowed, before and after DNS, without a request', async () => {
    const before = seen.length;
    expect(await postWebhook(`${base}/ok`, {}, '{}', { ...options, allowPrivate: false })).toMatchObject({
      ok: false,
      permanent: true,
      error: expect.stringMatching(/private/),
    });
    const viaDns = await postWebhook(`http://localtest.me:${new URL(base).port}/ok`, {}, '{}', { ...options, allowPrivate: false });
    expect(viaDns).toMatchObject({ ok: false, statusCode: null });
    expect(seen.length).toBe(before);
  });
});
