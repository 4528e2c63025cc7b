import { generateKeyPairSync, sign } from 'node:crypto';
import { dsnReport, DsnRefusal } from './dsn';
import { sendgridRefusal, sendgridReport } from './sendgrid-events';
import { sesReport } from './ses-events';

const MESSAGE_ID = '<5b0f5c1e-1111-4222-8333-944445555666@acme.test>';
const mail = { timestamp: '2026-12-01T10:00:00.000Z', messageId: 'ses-1', headers: [], commonHeaders: { messageId: MESSAGE_ID } };

describe('sesReport', () => {
  it.each([
    [
      { notificationType: 'Bounce', mail, bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: 'a@b.test' }] } },
      'bounced',
      'hard',
    ],
    [{ notificationType: 'Bounce', mail, bounce: { bounceType: 'Transient', bounceSubType: 'MailboxFull' } }, 'soft-bounced', 'soft'],
    [{ eventType: 'Bounce', mail, bounce: { bounceType: 'Undetermined' } }, 'soft-bounced', 'soft'],
  ])('reads %j as %s (%s)', (message, status, bounce) => {
    expect(sesReport(JSON.stringify(message))).toMatchObject({
      messageId: MESSAGE_ID,
      report: { status, detail: { bounce }, providerMessageId: 'ses-1', source: 'ses' },
    });
  });

  it('reads complaints, deliveries and opens, and makes no report of a send or a click', () => {
    const status = (type: string) => sesReport(JSON.stringify({ eventType: type, mail, complaint: {}, delivery: {}, open: {} }))?.report.status ?? null;
    expect(['Complaint', 'Delivery', 'Open', 'Send', 'Click'].map(status)).toEqual(['complained', 'delivered', 'opened', null, null]);
  });

  it('finds the Message-ID in the headers when the common headers lack it, and keeps no address in the diagnostic', () => {
    const message = {
      notificationType: 'Bounce',
      mail: { ...mail, commonHeaders: {}, headers: [{ name: 'message-id', value: MESSAGE_ID }] },
      bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: 'ada@example.test', diagnosticCode: 'smtp; 550 <ada@example.test> unknown' }] },
    };
    const report = sesReport(JSON.stringify(message))!;
    expect(report.messageId).toBe(MESSAGE_ID);
    expect(report.report.detail.diagnostic).toBe('smtp; 550 <…> unknown');
  });

  it('throws for a message that is not SES JSON', () => {
    expect(() => sesReport('not json')).toThrow();
    expect(() => sesReport('{"notificationType":"Bounce"}')).toThrow();
  });
});

describe('sendgrid', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const key = (publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
  const body = Buffer.from('[{"event":"delivered"}]');
  const signature = sign('sha256', Buffer.concat([Buffer.from('1700000000'), body]), privateKey).toString('base64');

  it('accepts the signature over timestamp and body, and nothing else', () => {
    expect(sendgridRefusal(key, signature, '1700000000', body)).toBeNull();
    expect(sendgridRefusal(key, signature, '1700000001', body)).toMatch(/does not match/);
    expect(sendgridRefusal(key, signature, '1700000000', Buffer.from('[{"event":"bounce"}]'))).toMatch(/does not match/);
    expect(sendgridRefusal(key, undefined, '1700000000', body)).toMatch(/required/);
    expect(sendgridRefusal(undefined, signature, '1700000000', body)).toMatch(/no SendGrid verification key/);
    expect(sendgridRefusal(key, 'not base64 at all', '1700000000', body)).toMatch(/does not match/);
  });

  it.each([
    [{ event: 'delivered' }, 'delivered'],
    [{ event: 'open' }, 'opened'],
    [{ event: 'bounce', type: 'bounce' }, 'bounced'],
    [{ event: 'bounce', type: 'blocked' }, 'soft-bounced'],
    [{ event: 'dropped', reason: 'Bounced Address' }, 'bounced'],
    [{ event: 'dropped', reason: 'Spam Reporting Address' }, 'complained'],
    [{ event: 'dropped', reason: 'Unsubscribed Address' }, 'soft-bounced'],
    [{ event: 'deferred' }, 'soft-bounced'],
    [{ event: 'spamreport' }, 'complained'],
    [{ event: 'processed' }, null],
  ])('reads %j as %s', (event, status) => {
    expect(sendgridReport({ ...event, 'smtp-id': MESSAGE_ID, timestamp: 1764669600 })?.report.status ?? null).toBe(status);
  });

  it('finds the Message-ID in smtp-id or the custom argument, and the time in the unix timestamp', () => {
    expect(sendgridReport({ event: 'open', dunningMessageId: MESSAGE_ID, timestamp: 1764669600 })).toMatchObject({
      messageId: MESSAGE_ID,
      report: { at: new Date('2025-12-02T10:00:00.000Z') },
    });
    expect(sendgridReport({ event: 'open' })?.messageId).toBeNull();
  });
});

describe('dsnReport', () => {
  const report = (
    action: string,
    status: string,
    returned = `Message-ID: ${MESSAGE_ID}`,
    type = 'multipart/report; report-type=delivery-status',
    perMessage = '',
  ) =>
    Buffer.from(
      [
        `Content-Type: ${type}; boundary="b"`,
        'MIME-Version: 1.0',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'Returned.',
        '--b',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; mx.example.org',
        ...(perMessage ? [perMessage] : []),
        '',
        'Final-Recipient: rfc822; ada@example.test',
        `Action: ${action}`,
        `Status: ${status}`,
        '',
        '--b',
        'Content-Type: text/rfc822-headers',
        '',
        returned,
        '',
        '--b--',
      ].join('\r\n'),
    );

  it.each([
    ['failed', '5.1.1', 'bounced'],
    ['failed', '4.2.2', 'soft-bounced'],
    ['delayed', '4.4.7', 'soft-bounced'],
    ['delivered', '2.0.0', 'delivered'],
  ])('reads Action %s with Status %s as %s', async (action, status, expected) => {
    expect(await dsnReport(report(action, status))).toMatchObject({ messageId: MESSAGE_ID, report: { status: expected, source: 'dsn' } });
  });

  it('prefers Original-Message-ID, and refuses what is not a delivery status report', async () => {
    const both = report('failed', '5.0.0', 'Message-ID: <returned@acme.test>', undefined, `Original-Message-ID: ${MESSAGE_ID}`);
    expect((await dsnReport(both))?.messageId).toBe(MESSAGE_ID);
    expect((await dsnReport(report('failed', '5.0.0', 'Subject: no id')))?.messageId).toBeNull();
    await expect(dsnReport(report('failed', '5.0.0', '', 'multipart/mixed'))).rejects.toThrow(DsnRefusal);
    await expect(dsnReport(Buffer.from('Subject: hi\r\n\r\nhello'))).rejects.toThrow(/multipart\/report/);
  });
});
