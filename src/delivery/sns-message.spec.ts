import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { isSnsUrl, type SnsCertificates } from './sns-certificates';
import { type SnsMessage, snsRefusal, snsStringToSign } from './sns-message';

const TOPIC = 'arn:aws:sns:us-west-2:123456789012:MyTopic';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const certificates = (key: KeyObject | { refusal: string } | { unavailable: string } = publicKey) =>
  ({ keyFor: () => Promise.resolve(key) }) as unknown as SnsCertificates;

function signed(message: Omit<SnsMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'>, version: '1' | '2' = '2'): SnsMessage {
  const unsigned = {
    ...message,
    SignatureVersion: version,
    SigningCertURL: 'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-abc.pem',
    Signature: '',
  };
  return { ...unsigned, Signature: sign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256', Buffer.from(snsStringToSign(unsigned)), privateKey).toString('base64') };
}

const notification = {
  Type: 'Notification' as const,
  MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
  TopicArn: TOPIC,
  Subject: 'My First Message',
  Message: 'Hello world!',
  Timestamp: '2012-05-02T00:54:06.655Z',
};

describe('snsStringToSign', () => {
  it('lists the signed fields of a notification in order, Subject included when present', () => {
    expect(snsStringToSign({ ...notification, SignatureVersion: '1', Signature: 'x', SigningCertURL: 'x' })).toBe(
      'Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nMy First Message\nTimestamp\n2012-05-02T00:54:06.655Z\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n',
    );
    const { Subject: _none, ...bare } = notification;
    expect(snsStringToSign({ ...bare, SignatureVersion: '1', Signature: 'x', SigningCertURL: 'x' })).not.toContain('Subject');
  });

  it('signs SubscribeURL and Token of a confirmation, and never its Subject', () => {
    const text = snsStringToSign({
      ...notification,
      Type: 'SubscriptionConfirmation',
      SubscribeURL: 'https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription',
      Token: 't',
      SignatureVersion: '1',
      Signature: 'x',
      SigningCertURL: 'x',
    });
    expect(text).toMatch(/^Message\n.*\nMessageId\n.*\nSubscribeURL\n.*\nTimestamp\n.*\nToken\nt\nTopicArn\n.*\nType\nSubscriptionConfirmation\n$/s);
    expect(text).not.toContain('Subject');
  });
});

describe('snsRefusal', () => {
  it.each(['1', '2'] as const)('accepts SignatureVersion %s signed by the certificate', async (version) => {
    expect(await snsRefusal(signed(notification, version), [TOPIC], certificates())).toBeNull();
  });

  it('refuses a message changed after signing, a signature of the other version, another key, another topic', async () => {
    const message = signed(notification);
    const refused = (reason: RegExp) => ({ status: 401, reason: expect.stringMatching(reason) });
    expect(await snsRefusal({ ...message, Message: 'Hello world?' }, [TOPIC], certificates())).toEqual(refused(/does not match/));
    expect(await snsRefusal({ ...message, SignatureVersion: '1' }, [TOPIC], certificates())).toEqual(refused(/does not match/));
    expect(await snsRefusal(message, [TOPIC], certificates(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey))).toEqual(refused(/does not match/));
    expect(await snsRefusal(message, ['arn:aws:sns:us-west-2:123456789012:Other'], certificates())).toEqual(refused(/TopicArn/));
  });

  it('passes on the refusal of the certificate, and asks for a retry when it could not be had', async () => {
    expect(await snsRefusal(signed(notification), [TOPIC], certificates({ refusal: 'SigningCertURL is not an SNS certificate URL' }))).toEqual({
      status: 401,
      reason: 'SigningCertURL is not an SNS certificate URL',
    });
    expect(await snsRefusal(signed(notification), [TOPIC], certificates({ unavailable: 'not fetched' }))).toEqual({ status: 503, reason: 'not fetched' });
  });
});

describe('isSnsUrl', () => {
  it.each(['https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem', 'https://sns.cn-north-1.amazonaws.com.cn/x.pem'])('accepts %s', (url) => {
    expect(isSnsUrl(url)).toBe(true);
  });

  it.each([
    'http://sns.us-east-1.amazonaws.com/x.pem',
    'https://sns.us-east-1.amazonaws.com.evil.test/x.pem',
    'https://evil.test/sns.us-east-1.amazonaws.com/x.pem',
    'https://sns.us-east-1.amazonaws.com:8443/x.pem',
    'https://user@sns.us-east-1.amazonaws.com/x.pem',
    'https://s3.amazonaws.com/x.pem',
    'not a url',
  ])('refuses %s', (url) => {
    expect(isSnsUrl(url)).toBe(false);
  });
});
