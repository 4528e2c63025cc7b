import { isPublicAddress, urlProblem } from './public-address';

describe('isPublicAddress', () => {
  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111', '[2001:4860:4860::8888]'])('%s is public', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'example.com',
  ])('%s is not', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });
});

describe('urlProblem', () => {
  it('accepts public http(s) URLs', () => {
    expect(urlProblem('https://hooks.example.com/dunning?x=1', false)).toBeNull();
    expect(urlProblem('http://93.184.216.34:8080/in', false)).toBeNull();
  });

  it('refuses other schemes, credentials and fragments whatever the setting', () => {
    expect(urlProblem('ftp://example.com/x', true)).toBe('must be an http or https URL');
    expect(urlProblem('not a url', true)).toBe('must be an absolute http or https URL');
    expect(urlProblem('https://user:pw@example.com/', true)).toBe('must not carry a user name or password');
    expect(urlProblem('https://example.com/#x', true)).toBe('must not have a #fragment');
  });

  it('refuses this machine and private address literals unless private addresses are allowed', () => {
    for (const url of ['http://127.0.0.1:8080/', 'http://localhost/', 'http://api.localhost/', 'http://[::1]/', 'http://169.254.169.254/latest/meta-data']) {
      expect(urlProblem(url, false)).toMatch(/WEBHOOK_ALLOW_PRIVATE is off/);
      expect(urlProblem(url, true)).toBeNull();
    }
  });
});
