import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { dashboardAuth } from './basic-auth';
import { admin, auditor, basic, finance, keys, operator } from '../common/auth/api-keys.fixture';

describe('dashboardAuth', () => {
  function run(method: string, authorization?: string) {
    const calls: string[] = [];
    const headers: Record<string, string> = {};
    const answer: { status?: number; body?: unknown } = {};
    const res = {
      setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = value),
      status(code: number) {
        answer.status = code;
        return this;
      },
      json: (body: unknown) => (answer.body = body),
    };
    const readOnly: RequestHandler = (_req, _res, next) => {
      calls.push('read-only board');
      next();
    };
    const next: NextFunction = () => calls.push("operators' board");
    // Only the fields the middleware reads.
    dashboardAuth(keys, readOnly)({ method, headers: { authorization } } as Request, res as unknown as Response, next);
    return { calls, headers, answer };
  }

  it('answers 401 with a Basic challenge and stops there without valid credentials', () => {
    for (const header of [undefined, basic('ops-desk', 'wrong'), `Bearer ${operator.secret}`]) {
      const { calls, headers, answer } = run('GET', header);
      expect(answer.status).toBe(401);
      expect(headers['www-authenticate']).toBe('Basic realm="dunning"');
      expect(calls).toEqual([]);
    }
  });

  it("passes operators and admins on to the operators' board, writes included", () => {
    expect(run('PUT', basic('ops-desk', operator.secret)).calls).toEqual(["operators' board"]);
    expect(run('GET', basic('root', admin.secret)).calls).toEqual(["operators' board"]);
  });

  it("serves auditors the read-only board, and nothing falls through from it to the operators' board", () => {
    const { calls, answer } = run('GET', basic('audit', auditor.secret));
    expect(calls).toEqual(['read-only board']);
    expect(answer.status).toBe(404);
  });

  it("refuses auditors' writes and other roles with 403", () => {
    for (const [method, header] of [
      ['PUT', basic('audit', auditor.secret)],
      ['POST', basic('audit', auditor.secret)],
      ['GET', basic('books', finance.secret)],
    ] as const) {
      const { calls, answer } = run(method, header);
      expect(answer.status).toBe(403);
      expect(calls).toEqual([]);
    }
  });
});
