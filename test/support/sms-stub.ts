import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubSmsRequest {
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or null when it was not JSON. */
  body: unknown;
  /** What the stub answered. */
  status: number;
  receivedAt: Date;
}

export interface StubSms {
  /** The provider's id, answered as `{id}`. */
  id: string;
  to: string;
  text: string;
  reference: string;
  headers: IncomingHttpHeaders;
  receivedAt: Date;
}

/**
 * A local SMS provider for tests, speaking the HTTP adapter's protocol: `POST /` with JSON
 * `{to, text, reference}` → 202 `{id}`. It dedupes on `reference` like a real provider: a second
 * POST of a known reference answers 409 `{id, reference}` and is counted in `duplicates`, not `messages`.
 */
export class SmsStub {
  /** Every request, in order, whatever was answered. */
  readonly requests: StubSmsRequest[] = [];
  /** Each message accepted once. */
  readonly messages: StubSms[] = [];
  /** Resends of a reference already accepted. */
  readonly duplicates: StubSms[] = [];
  /** Answers this many requests with `failWith` (before looking at them), then works again. */
  failNext = 0;
  failWith = 503;
  /** Accepts this many messages but answers 503, as when the provider's answer is lost: the sender must retry. */
  loseNextAnswers = 0;
  /** Delays every answer by this many milliseconds (a slow provider, to provoke client timeouts). */
  delayMs = 0;
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  private server?: Server;

  /** Fails the next `count` requests with `status` (503 by default). */
  fail(count: number, status = 503): void {
    this.failNext = count;
    this.failWith = status;
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch(() => {
        if (!response.headersSent) answer(response, 500, { error: 'stub failure' });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/messages`;
  }

  /** Messages accepted for one phone number. */
  to(phone: string): StubSms[] {
    return this.messages.filter((message) => message.to === phone);
  }

  reset(): void {
    this.requests.length = 0;
    this.messages.length = 0;
    this.duplicates.length = 0;
    this.failNext = 0;
    this.failWith = 503;
    this.loseNextAnswers = 0;
    this.delayMs = 0;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      body = null;
    }
    const record: StubSmsRequest = { headers: request.headers, body, status: 0, receivedAt: new Date() };
    this.requests.push(record);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const reply = (status: number, payload: unknown) => {
      record.status = status;
      answer(response, status, payload);
    };
    if (this.failNext > 0) {
      this.failNext--;
      return reply(this.failWith, { error: `stub failure ${this.failWith}` });
    }
    if (request.method !== 'POST') return reply(405, { error: 'method not allowed' });
    if (this.apiKey && request.headers.authorization !== `Bearer ${this.apiKey}`) return reply(401, { error: 'unauthorized' });
    const { to, text, reference } = (body ?? {}) as Record<string, unknown>;
    if (typeof to !== 'string' || typeof text !== 'string' || typeof reference !== 'string' || !to || !text || !reference) {
      return reply(400, { error: 'to, text and reference are required' });
    }
    const known = this.messages.find((message) => message.reference === reference);
    if (known) {
      this.duplicates.push({ ...known, headers: request.headers, receivedAt: record.receivedAt });
      return reply(409, { id: known.id, reference, error: 'duplicate reference' });
    }
    const message: StubSms = { id: randomUUID(), to, text, reference, headers: request.headers, receivedAt: record.receivedAt };
    this.messages.push(message);
    if (this.loseNextAnswers > 0) {
      this.loseNextAnswers--;
      return reply(503, { error: 'stub: accepted, but the answer is lost' });
    }
    return reply(202, { id: message.id });
  }
}

function answer(response: ServerResponse, status: number, payload: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(payload));
}
