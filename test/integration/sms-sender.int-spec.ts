import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import type { AppConfig } from '../../src/config/app-config';
import { HttpSmsSender, OutboxSmsSender, type SmsSender, smsSenderProvider } from '../../src/channels/sms/sms-sender';
import { SmsStub } from '../support/sms-stub';

const API_KEY = 'sms-test-key-0123456789';
const PHONE = '+8613800138000';
const TEXT = '【Example GmbH】还款提醒：账单 INV-1 尚欠 ¥100.00。\n退订：https://pay.example.com/u/x';

const message = (reference: string = randomUUID()) => ({ to: PHONE, text: TEXT, reference });

/** Whatever went wrong, the error must not carry the recipient's number or the message. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => {
      throw new Error('expected the send to fail');
    },
    (caught: unknown) => caught as Error,
  );
  expect(error.message).not.toContain(PHONE);
  expect(error.message).not.toContain('8613800138000');
  expect(error.message).not.toContain('还款提醒');
  return error;
}

describe('HttpSmsSender against a local provider', () => {
  const stub = new SmsStub();
  let url: string;
  let sender: HttpSmsSender;

  beforeAll(async () => {
    url = await stub.start();
    stub.apiKey = API_KEY;
    sender = new HttpSmsSender({ url, apiKey: API_KEY, timeoutMs: 2_000 });
  });
  afterEach(() => stub.reset());
  afterAll(() => stub.stop());

  it('posts the number, the text and the reference, with the reference as Idempotency-Key and the bearer key', async () => {
    const sms = message();
    const sent = await sender.send(sms);
    expect(stub.messages).toHaveLength(1);
    const received = stub.messages[0]!;
    expect(received).toMatchObject({ to: PHONE, text: TEXT, reference: sms.reference });
    expect(received.headers['idempotency-key']).toBe(sms.reference);
    expect(received.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(received.headers['content-type']).toMatch(/^application\/json/);
    expect(sent.providerMessageId).toBe(received.id);
    expect(sent.receipt).toContain('202');
  });

  it('sends no second SMS when a retried job sends the same reference again', async () => {
    const sms = message();
    const first = await sender.send(sms);
    const second = await sender.send(sms);
    expect(stub.messages).toHaveLength(1);
    expect(stub.duplicates).toHaveLength(1);
    expect(stub.requests.map((request) => request.status)).toEqual([202, 409]);
    expect(second.providerMessageId).toBe(first.providerMessageId);
  });

  it('sends each reference once: different references are different messages', async () => {
    await sender.send(message());
    await sender.send(message());
    expect(stub.messages).toHaveLength(2);
    expect(stub.duplicates).toHaveLength(0);
  });

  it('throws a retryable error on a 503, and the retry with the same reference goes through once', async () => {
    const sms = message();
    stub.fail(1, 503);
    const error = await failure(sender.send(sms));
    expect(error).not.toBeInstanceOf(UnrecoverableError);
    expect(error.message).toMatch(/503/);
    await sender.send(sms);
    expect(stub.messages).toHaveLength(1);
    expect(stub.requests.map((request) => request.status)).toEqual([503, 202]);
  });

  it.each([429, 408])('treats %i as a reason to retry later', async (status) => {
    stub.fail(1, status);
    const error = await failure(sender.send(message()));
    expect(error).not.toBeInstanceOf(UnrecoverableError);
    expect(error.message).toContain(String(status));
  });

  it('throws UnrecoverableError on a 400, with the status and without the number or the text', async () => {
    stub.fail(1, 400);
    const error = await failure(sender.send(message()));
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toMatch(/400/);
  });

  it('keeps a recipient number the provider echoes back out of the error', async () => {
    const server = createServer((_request, response) => {
      response.writeHead(422, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: `invalid number ${PHONE} (86 138 0013 8000)` }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const error = await failure(new HttpSmsSender({ url: `http://127.0.0.1:${port}/` }).send(message()));
      expect(error).toBeInstanceOf(UnrecoverableError);
      expect(error.message).toMatch(/422 \(invalid number/);
      expect(error.message).not.toMatch(/138/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('throws UnrecoverableError when the key is refused', async () => {
    const error = await failure(new HttpSmsSender({ url, apiKey: 'wrong-key-0123456789' }).send(message()));
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toMatch(/401/);
    expect(stub.messages).toHaveLength(0);
  });

  it('throws a retryable error when the provider does not answer in time', async () => {
    stub.delayMs = 500;
    const error = await failure(new HttpSmsSender({ url, apiKey: API_KEY, timeoutMs: 100 }).send(message()));
    expect(error).not.toBeInstanceOf(UnrecoverableError);
    expect(error.message).toMatch(/within 100 ms/);
  });

  it('throws a retryable error when nothing listens', async () => {
    const down = new SmsStub();
    const downUrl = await down.start();
    await down.stop();
    const error = await failure(new HttpSmsSender({ url: downUrl }).send(message()));
    expect(error).not.toBeInstanceOf(UnrecoverableError);
    expect(error.message).toMatch(/unreachable/);
  });

  it('refuses a reference that is not a safe token', async () => {
    const error = await failure(sender.send(message('../../etc/passwd')));
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(stub.requests).toHaveLength(0);
  });
});

describe('OutboxSmsSender', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sms-outbox-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one JSON file per message, named by the reference', async () => {
    const sms = message();
    const sent = await new OutboxSmsSender(dir).send(sms);
    const file = join(dir, 'sms', `${sms.reference}.json`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ reference: sms.reference, to: PHONE, text: TEXT });
    expect(sent).toEqual({ providerMessageId: null, receipt: `outbox:${file}` });
  });

  it('writes a reference once: a resend leaves the first file and adds none', async () => {
    const sender = new OutboxSmsSender(dir);
    const sms = message();
    await sender.send(sms);
    const again = await sender.send({ ...sms, text: 'something else' });
    expect(readdirSync(join(dir, 'sms'))).toEqual([`${sms.reference}.json`]);
    expect(JSON.parse(readFileSync(join(dir, 'sms', `${sms.reference}.json`), 'utf8')).text).toBe(TEXT);
    expect(again.receipt).toBe(`outbox:${join(dir, 'sms', `${sms.reference}.json`)}`);
  });

  it('refuses a reference that would escape the outbox', async () => {
    await expect(new OutboxSmsSender(dir).send(message('../escape'))).rejects.toBeInstanceOf(UnrecoverableError);
    expect(existsSync(join(dir, 'escape.json'))).toBe(false);
  });
});

describe('smsSenderProvider', () => {
  const build = (config: Partial<AppConfig>): SmsSender => smsSenderProvider.useFactory({ OUTBOX_DIR: './var/outbox', ...config }) as SmsSender;

  it('picks the HTTP adapter when SMS_URL is set, the outbox otherwise', () => {
    expect(build({ SMS_URL: 'http://127.0.0.1:1/sms', SMS_API_KEY: API_KEY })).toBeInstanceOf(HttpSmsSender);
    expect(build({})).toBeInstanceOf(OutboxSmsSender);
  });
});
