import { verify } from 'node:crypto';
import { z } from 'zod';
import type { SnsCertificates } from './sns-certificates';

/** An SNS message as POSTed to an HTTPS subscription (a JSON body sent as text/plain). Unknown fields pass: SNS adds some. */
export const snsMessage = z.object({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().min(1).max(200),
  TopicArn: z.string().min(1).max(500),
  Subject: z.string().max(500).optional(),
  Message: z.string().max(300_000),
  Timestamp: z.string().min(1).max(64),
  SignatureVersion: z.enum(['1', '2']),
  Signature: z.string().min(1).max(2000),
  SigningCertURL: z.string().min(1).max(2000),
  SubscribeURL: z.string().max(2000).optional(),
  Token: z.string().max(2000).optional(),
});
export type SnsMessage = z.output<typeof snsMessage>;

/** The fields SNS signs, in the order it signs them (Subject only when present, and only on notifications). */
const SIGNED_FIELDS = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
} as const satisfies Record<SnsMessage['Type'], readonly (keyof SnsMessage)[]>;

/** The string SNS signs: each signed field present as "<name>\n<value>\n". */
export function snsStringToSign(message: SnsMessage): string {
  return SIGNED_FIELDS[message.Type]
    .filter((field) => message[field] !== undefined)
    .map((field) => `${field}\n${message[field]}\n`)
    .join('');
}

/** Why an SNS message is not accepted: not SNS's or not ours (401), or not checkable now (503, SNS retries). */
export type SnsRefusal = { status: 401 | 503; reason: string };

/**
 * Verifies an SNS message: SignatureVersion 1 is SHA1withRSA, 2 SHA256withRSA, over the string
 * to sign, with the certificate at SigningCertURL; the topic must be one of ours. Returns the
 * refusal, or null when the message is SNS's.
 */
export async function snsRefusal(message: SnsMessage, topics: readonly string[], certificates: SnsCertificates): Promise<SnsRefusal | null> {
  const refuse = (reason: string): SnsRefusal => ({ status: 401, reason });
  if (!topics.includes(message.TopicArn)) return refuse('TopicArn is not a topic this service subscribes to (SES_SNS_TOPIC_ARNS)');
  if (message.Type !== 'Notification' && (message.SubscribeURL === undefined || message.Token === undefined))
    return refuse('a confirmation needs SubscribeURL and Token');
  const key = await certificates.keyFor(message.SigningCertURL);
  if ('unavailable' in key) return { status: 503, reason: key.unavailable };
  if ('refusal' in key) return refuse(key.refusal);
  const algorithm = message.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256';
  const ok = verify(algorithm, Buffer.from(snsStringToSign(message), 'utf8'), key, Buffer.from(message.Signature, 'base64'));
  return ok ? null : refuse('the signature does not match the message');
}
