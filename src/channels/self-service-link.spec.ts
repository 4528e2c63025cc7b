import { checkSelfServiceFormToken, selfServiceFormToken, signSelfServiceToken, verifySelfServiceToken } from './self-service-link';

const SECRET = 'a-self-service-secret-of-32-chars!';
const CASE = '3f0c8a52-6d1e-4b8e-9a43-2f5d0c1b7e90';
const ISSUED = new Date('2026-11-01T10:00:00Z');
const DAY = 86_400_000;

describe('the self-service link', () => {
  const token = signSelfServiceToken(SECRET, CASE, ISSUED);

  it('names the case and is accepted within its lifetime', () => {
    expect(verifySelfServiceToken(SECRET, token, new Date(ISSUED.getTime() + 29 * DAY), 30 * DAY)).toEqual({ ok: true, caseId: CASE, issuedAt: ISSUED });
  });

  it('is refused once older than its lifetime', () => {
    expect(verifySelfServiceToken(SECRET, token, new Date(ISSUED.getTime() + 30 * DAY + 1000), 30 * DAY)).toEqual({ ok: false, reason: 'expired' });
  });

  it('is refused when any character of it changed, the spare bits of the last one included', () => {
    const [caseId, issued, signature] = token.split('.') as [string, string, string];
    const last = signature.at(-1)!;
    const spare = String.fromCharCode(last.charCodeAt(0) ^ 1);
    for (const altered of [
      `${caseId.replace(/.$/, (c) => (c === '0' ? '1' : '0'))}.${issued}.${signature}`,
      `${caseId}.${Number(issued) + 86_400}.${signature}`,
      `${caseId}.${issued}.${signature.slice(0, -1)}${spare}`,
    ]) {
      expect(verifySelfServiceToken(SECRET, altered, ISSUED, 30 * DAY)).toEqual({ ok: false, reason: 'altered' });
    }
    expect(verifySelfServiceToken('another-secret-of-at-least-32-chars', token, ISSUED, 30 * DAY)).toEqual({ ok: false, reason: 'altered' });
  });

  it('refuses text of another shape without computing anything', () => {
    for (const text of ['', 'x', `${CASE}.1.`, `${CASE}.${'9'.repeat(13)}.${'a'.repeat(43)}`, `${token}\u0000`]) {
      expect(verifySelfServiceToken(SECRET, text, ISSUED, 30 * DAY)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it("binds the page's form token to its link", () => {
    const form = selfServiceFormToken(SECRET, token);
    expect(checkSelfServiceFormToken(SECRET, token, form)).toBe(true);
    expect(checkSelfServiceFormToken(SECRET, signSelfServiceToken(SECRET, CASE, new Date(ISSUED.getTime() + 1000)), form)).toBe(false);
    expect(checkSelfServiceFormToken(SECRET, token, undefined)).toBe(false);
    expect(checkSelfServiceFormToken(SECRET, token, ['x'])).toBe(false);
  });
});
