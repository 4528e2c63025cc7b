import { join } from 'node:path';
import { Logger, type FactoryProvider } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { writeOutboxFile } from '../outbox-file';

export interface OutgoingSms {
  /** E.164 phone number. Personal data: never logged, never put in an error message. */
  to: string;
  text: string;
  /** The dispatch id: the provider's dedupe key, so a rerun of the job never sends a second SMS. */
  reference: string;
}

export interface SentSms {
  /** The provider's id for the message, when it tells us one. */
  providerMessageId: string | null;
  /** Where the message went: the provider's answer, or the outbox file. */
  receipt: string;
}

/**
 * The SMS channel (also the Nest injection token). `send` resolves once the provider has accepted
 * the message (or had already accepted this reference); it throws `UnrecoverableError` when
 * retrying cannot help, and a plain Error when it can (the job is retried with the same reference).
 */
export abstract class SmsSender {
  abstract send(message: OutgoingSms): Promise<SentSms>;
}

/** References become file names and header values: keep them to a safe alphabet. */
const REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function checkReference(reference: string): void {
  if (!REFERENCE.test(reference)) throw new UnrecoverableError('SMS reference must be 1-128 characters of A-Z a-z 0-9 . _ - (a dispatch id)');
}

export interface HttpSmsOptions {
  url: string;
  apiKey?: string;
  timeoutMs?: number;
}

/**
 * JSON `POST url` with `{to, text, reference}`. The provider dedupes on `reference` (also sent as
 * `Idempotency-Key`): a resend after a crash or a timeout is answered 2xx or 409, never sent twice.
 */
export class HttpSmsSender extends SmsSender {
  private readonly logger = new Logger(HttpSmsSender.name);
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpSmsOptions) {
    super();
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async send(message: OutgoingSms): Promise<SentSms> {
    checkReference(message.reference);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'Idempotency-Key': message.reference,
    };
    if (this.options.apiKey) headers.Authorization = `Bearer ${this.options.apiKey}`;
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ to: message.to, text: message.text, reference: message.reference }),
        signal: AbortSignal.timeout(this.timeoutMs),
        // A redirect is a misconfigured SMS_URL: surface it (a 3xx is refused below) rather than follow it with the key.
        redirect: 'manual',
      });
      body = parseJson(await response.text());
    } catch (error) {
      // Retryable: the provider may or may not have the message, and the reference makes a resend safe.
      throw new Error(`SMS provider unreachable for ${message.reference}: ${describeFailure(error, this.timeoutMs)}`, { cause: error });
    }
    const { status } = response;
    if (status >= 200 && status < 300) return this.accepted(message.reference, status, body, 'accepted');
    if (status === 409) {
      const theirs = field(body, 'reference');
      if (theirs === null || theirs === message.reference) return this.accepted(message.reference, status, body, 'already accepted');
      throw new UnrecoverableError(`SMS provider answered 409 for ${message.reference} naming another reference`);
    }
    const reason = shortReason(body, message) ?? response.statusText;
    // 408 and 429 are the provider asking us to come back later, not a verdict on the message.
    if (status >= 500 || status === 408 || status === 429) {
      throw new Error(`SMS provider answered ${status}${reason ? ` (${reason})` : ''} for ${message.reference}`);
    }
    throw new UnrecoverableError(`SMS provider refused ${message.reference}: ${status}${reason ? ` (${reason})` : ''}`);
  }

  private accepted(reference: string, status: number, body: unknown, how: string): SentSms {
    const providerMessageId = field(body, 'id') ?? field(body, 'messageId');
    this.logger.log(`sms ${reference} ${how} by the provider (${status}${providerMessageId ? `, id ${providerMessageId}` : ''})`);
    return { providerMessageId, receipt: `${status} ${how}${providerMessageId ? ` id=${providerMessageId}` : ''}` };
  }
}

/**
 * The default with no SMS_URL: one JSON file per message at `<OUTBOX_DIR>/sms/<reference>.json`.
 * The first write of a reference wins, as a provider's dedupe would.
 */
export class OutboxSmsSender extends SmsSender {
  private readonly logger = new Logger(OutboxSmsSender.name);
  private readonly dir: string;

  constructor(outboxDir: string) {
    super();
    this.dir = join(outboxDir, 'sms');
  }

  async send(message: OutgoingSms): Promise<SentSms> {
    checkReference(message.reference);
    const content = `${JSON.stringify({ reference: message.reference, to: message.to, text: message.text }, null, 2)}\n`;
    const { file, fresh } = await writeOutboxFile(this.dir, `${message.reference}.json`, content);
    this.logger.log(`sms ${message.reference} ${fresh ? 'written to' : 'already in'} ${file}`);
    return { providerMessageId: null, receipt: `outbox:${file}` };
  }
}

/** The HTTP adapter when SMS_URL is set, else the file outbox. */
export const smsSenderProvider: FactoryProvider<SmsSender> = {
  provide: SmsSender,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig): SmsSender =>
    config.SMS_URL ? new HttpSmsSender({ url: config.SMS_URL, apiKey: config.SMS_API_KEY }) : new OutboxSmsSender(config.OUTBOX_DIR),
};

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A string or number field of a JSON object body, as a string. */
function field(body: unknown, name: string): string | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const value = (body as Record<string, unknown>)[name];
  if (typeof value === 'string' && value.length > 0) return value.slice(0, 200);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/**
 * The provider's own words, if short, with anything that could be the recipient or the message
 * removed: providers like to echo the number back ("invalid number +4915…").
 */
function shortReason(body: unknown, message: OutgoingSms): string | null {
  const raw = field(body, 'error') ?? field(body, 'message') ?? field(body, 'code');
  if (!raw) return null;
  let reason = raw;
  for (const secret of [message.to, message.text]) if (secret) reason = reason.split(secret).join('…');
  reason = reason
    .replace(/\+?\d[\d\s().-]{4,}\d/g, '…')
    .replace(/\s+/g, ' ')
    .trim();
  return reason.length > 80 ? `${reason.slice(0, 79)}…` : reason;
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const { name, cause } = (error ?? {}) as { name?: string; cause?: { code?: unknown } };
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (typeof cause?.code === 'string') return cause.code;
  return name ?? 'network error';
}
