import type { NextFunction, Request, Response } from 'express';
import { basicAuthPage, basicKey } from './basic-auth';
import { admin, auditor, basic, finance, keys, operator } from './api-keys.fixture';

describe('basicKey', () => {
  it('finds the key whose name and secret are given', () => {
    expect(basicKey(keys, basic('ops-desk', operator.secret))).toEqual(operator);
    expect(basicKey(keys, basic('root', admin.secret))).toEqual(admin);
    expect(basicKey(keys, `basic   ${Buffer.from(`audit:${auditor.secret}`).toString('base64')}`)).toEqual(auditor);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['a bearer token', `Bearer ${operator.secret}`],
    ['a wrong secret', basic('ops-desk', `${operator.secret}x`)],
    ["another key's name", basic('audit', operator.secret)],
    ['no name', basic('', operator.secret)],
    ['no colon', `Basic ${Buffer.from(operator.secret).toString('base64')}`],
    ['a name as the secret', basic('ops-desk', 'ops-desk')],
    ['not base64', 'Basic !!!'],
  ])('finds nothing for %s', (_label, header) => {
    expect(basicKey(keys, header)).toBeUndefined();
  });
});

describe('basicAuthPage', () => {
  function run(authorization: string | undefined, admitted?: Parameters<typeof basicAuthPage>[3]) {
    const calls: string[] = [];
    const headers: Record<string, string> = {};
    const answer: { status?: number; body?: { message?: string } } = {};
    const res = {
      setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = value),
      status(code: number) {
        answer.status = code;
        return this;
      },
      json: (body: { message?: string }) => (answer.body = body),
    };
    const next: NextFunction = () => calls.push('page');
    // Only the fields the middleware reads.
    basicAuthPage(
      keys,
      'the ledger page',
      ['finance', 'admin'],
      admitted,
    )({ method: 'GET', headers: { authorization } } as Request, res as unknown as Response, next);
    return { calls, headers, answer };
  }

  it('answers 401 with a Basic challenge, uncached, and stops there without valid credentials', () => {
    for (const header of [undefined, basic('books', 'wrong'), `Bearer ${finance.secret}`]) {
      const { calls, headers, answer } = run(header);
      expect(answer).toEqual({
        status: 401,
        body: expect.objectContaining({ message: 'the ledger page needs HTTP Basic credentials: an API key name and its secret' }),
      });
      expect(headers).toEqual({ 'www-authenticate': 'Basic realm="dunning"', 'cache-control': 'no-store' });
      expect(calls).toEqual([]);
    }
  });

  it('refuses a role outside the list with 403 naming the allowed ones', () => {
    const { calls, answer } = run(basic('audit', auditor.secret));
    expect(answer).toEqual({
      status: 403,
      body: { statusCode: 403, error: 'Forbidden', message: 'role "auditor" may not use the ledger page (allowed: finance, admin)' },
    });
    expect(calls).toEqual([]);
  });

  it('lets the listed roles on to the page', () => {
    expect(run(basic('books', finance.secret)).calls).toEqual(['page']);
    expect(run(basic('root', admin.secret)).calls).toEqual(['page']);
  });

  it('hands an admitted key to the page when asked', () => {
    const seen: string[] = [];
    const { calls } = run(basic('books', finance.secret), (key, _req, _res, next) => {
      seen.push(key.name);
      next();
    });
    expect(seen).toEqual(['books']);
    expect(calls).toEqual(['page']);
  });
});
