import { generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { DateTime } from 'luxon';
import forge from 'node-forge';
import { SnsHttp } from '../../src/delivery/sns-certificates';
import { snsStringToSign } from '../../src/delivery/sns-message';
import { FixedClock } from '../support/fixed-clock';
import { SmsStub } from '../support/sms-stub';
import { type ReceivedMail, SmtpSink } from '../support/smtp-sink';
import { bearer, clearRedis, overdueEvent, runStepAgain, SHARED_REDIS_DB, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

interface Touch {
  seq: number;
  kind: string;
  channel: string | null;
  data: Record<string, unknown>;
}

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ses-events';
const CERT_URL = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem';

/** A signing certificate as SNS's looks (issued to sns.amazonaws.com), self-signed here since AWS cannot run in a test. */
function snsCertificate(): { pem: string; key: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = '01';
  cert.validity.notBefore = DateTime.now().minus({ days: 1 }).toJSDate();
  cert.validity.notAfter = DateTime.now().plus({ days: 30 }).toJSDate();
  const name = [{ name: 'commonName', value: 'sns.amazonaws.com' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }) as string), forge.md.sha256.create());
  return { pem: forge.pki.certificateToPem(cert), key: privateKey };
}

/** SNS over HTTP, as AWS serves it: the certificate at CERT_URL, and subscription links it records. */
class TestSnsHttp extends SnsHttp {
  fetched: string[] = [];
  constructor(private readonly pem: string) {
    super();
  }
  override get(url: string): Promise<string> {
    this.fetched.push(url);
    return url === CERT_URL
      ? Promise.resolve(this.pem)
      : url.startsWith('https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription')
        ? Promise.resolve('<ConfirmSubscriptionResponse/>')
        : Promise.reject(new Error('404'));
  }
}

describe('delivery status in: provider events and RFC 3464 reports move the next step to the fallback channel', () => {
  const smtp = new SmtpSink();
  const sms = new SmsStub();
  const sns = snsCertificate();
  const snsHttp = new TestSnsHttp(sns.pem);
  const sendgrid = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const forger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  let sut: TestApp;

  beforeAll(async () => {
    const [smtpUrl, smsUrl] = await Promise.all([smtp.start(), sms.start()]);
    // Every Redis database of its own is taken: this suite shares database 0 under its queue prefix.
    sut = await startTestApp(
      'delivery_status',
      SHARED_REDIS_DB,
      {
        SMTP_URL: smtpUrl,
        SMS_URL: smsUrl,
        QUEUE_PREFIX: `e2e-delivery-${randomUUID().slice(0, 8)}`,
        SES_SNS_TOPIC_ARNS: TOPIC,
        SENDGRID_WEBHOOK_PUBLIC_KEY: (sendgrid.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64'),
      },
      (builder) => builder.overrideProvider(SnsHttp).useValue(snsHttp),
    );
  });

  afterAll(async () => {
    await sut?.close();
    if (sut) await clearRedis(sut.config);
    await Promise.all([smtp.stop(), sms.stop()]);
  });

  const touches = async (caseId: string) =>
    (await sut.http.get(`/v1/cases/${caseId}/touches?limit=500`).set(bearer('auditor')).expect(200)).body.items as Touch[];
  const detail = async (caseId: string) => (await sut.http.get(`/v1/cases/${caseId}`).set(bearer('finance')).expect(200)).body;

  /** A case on the fallback policy whose first email has gone out: its id, the debtor's phone and the email. */
  async function firstEmail(): Promise<{ caseId: string; phone: string; email: string; mail: ReceivedMail }> {
    const phone = `+4915${Math.floor(Math.random() * 1e9)}`;
    const event = overdueEvent({
      segment: 'delivery-fallback',
      debtor: { phone, address: { line1: '1 High Street', city: 'London', postcode: 'EC1A 1BB', country: 'GB' } },
    });
    const response = await sut.http.post('/v1/events').set(bearer('ingest')).send(event).expect(202);
    const caseId = response.body.results[0].caseId as string;
    const { email } = event.data.debtor;
    const mail = await waitFor('the first notice', () => smtp.to(email)[0]);
    return { caseId, phone, email, mail };
  }

  // ---- each adapter's real payload shape, signed as its provider signs it ----

  function snsPost(message: Record<string, string>, version: '1' | '2' = '2', key: KeyObject = sns.key) {
    const signed = { TopicArn: TOPIC, SigningCertURL: CERT_URL, ...message, SignatureVersion: version } as Record<string, string>;
    const toSign = snsStringToSign(signed as never);
    signed.Signature = sign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256', Buffer.from(toSign), key).toString('base64');
    // SNS posts JSON as text/plain.
    return sut.http
      .post('/v1/delivery/ses')
      .set('Content-Type', 'text/plain; charset=UTF-8')
      .set('x-amz-sns-message-type', signed.Type!)
      .send(JSON.stringify(signed));
  }

  function sesNotification(messageId: string, kind: 'hard' | 'soft' | 'complaint' | 'open', version: '1' | '2' = '2', key?: KeyObject) {
    const mail = {
      timestamp: new Date().toISOString(),
      source: 'dunning@acme.test',
      messageId: `0100018c${randomUUID().replace(/-/g, '')}-000000`,
      destination: ['debtor@example.test'],
      headersTruncated: false,
      headers: [{ name: 'Message-ID', value: messageId }],
      commonHeaders: { from: ['dunning@acme.test'], to: ['debtor@example.test'], messageId, subject: 'Reminder' },
    };
    const body =
      kind === 'complaint'
        ? {
            notificationType: 'Complaint',
            mail,
            complaint: {
              complainedRecipients: [{ emailAddress: 'debtor@example.test' }],
              timestamp: new Date().toISOString(),
              feedbackId: randomUUID(),
              complaintFeedbackType: 'abuse',
            },
          }
        : kind === 'open'
          ? { eventType: 'Open', mail, open: { ipAddress: '192.0.2.1', timestamp: new Date().toISOString(), userAgent: 'Mail' } }
          : {
              notificationType: 'Bounce',
              mail,
              bounce: {
                bounceType: kind === 'hard' ? 'Permanent' : 'Transient',
                bounceSubType: kind === 'hard' ? 'General' : 'MailboxFull',
                bouncedRecipients: [
                  {
                    emailAddress: 'debtor@example.test',
                    action: 'failed',
                    status: kind === 'hard' ? '5.1.1' : '4.2.2',
                    diagnosticCode: 'smtp; 550 5.1.1 <debtor@example.test>: user unknown',
                  },
                ],
                timestamp: new Date().toISOString(),
                feedbackId: randomUUID(),
                reportingMTA: 'dsn; a8-1.smtp-out.amazonses.com',
              },
            };
    return snsPost(
      {
        Type: 'Notification',
        MessageId: randomUUID(),
        Subject: 'Amazon SES Email Event Notification',
        Message: JSON.stringify(body),
        Timestamp: new Date().toISOString(),
      },
      version,
      key,
    );
  }

  function sendgridPost(events: object[], key: KeyObject = sendgrid.privateKey) {
    const body = JSON.stringify(events);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = sign('sha256', Buffer.from(timestamp + body), key).toString('base64');
    return sut.http
      .post('/v1/delivery/sendgrid')
      .set('Content-Type', 'application/json')
      .set('X-Twilio-Email-Event-Webhook-Signature', signature)
      .set('X-Twilio-Email-Event-Webhook-Timestamp', timestamp)
      .send(body);
  }

  const sendgridBounce = (messageId: string) => ({
    email: 'debtor@example.test',
    timestamp: Math.floor(Date.now() / 1000),
    'smtp-id': messageId,
    event: 'bounce',
    category: ['dunning'],
    sg_event_id: randomUUID(),
    sg_message_id: `${randomUUID()}.filterdrecv-p3mdw1-1`,
    reason: '550 5.1.1 The email account that you tried to reach does not exist.',
    status: '5.1.1',
    type: 'bounce',
  });

  function dsn(messageId: string, action: string, status: string) {
    const boundary = `report-${randomUUID()}`;
    const raw = [
      'From: Mail Delivery System <MAILER-DAEMON@mx.example.org>',
      'To: dunning@acme.test',
      'Subject: Undelivered Mail Returned to Sender',
      `Message-ID: <${randomUUID()}@mx.example.org>`,
      'MIME-Version: 1.0',
      `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'Your message could not be delivered.',
      '',
      `--${boundary}`,
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.org',
      `Arrival-Date: ${new Date().toUTCString()}`,
      '',
      'Final-Recipient: rfc822; debtor@example.test',
      `Action: ${action}`,
      `Status: ${status}`,
      'Diagnostic-Code: smtp; 550 5.1.1 <debtor@example.test>: Recipient address',
      ' rejected: User unknown in virtual mailbox table',
      '',
      `--${boundary}`,
      'Content-Type: text/rfc822-headers',
      '',
      'From: Acme Lending Ltd <dunning@acme.test>',
      'To: debtor@example.test',
      `Message-ID: ${messageId}`,
      'Subject: Reminder',
      '',
      `--${boundary}--`,
      '',
    ].join('\r\n');
    return sut.http.post('/v1/delivery/dsn').set(bearer('ingest')).set('Content-Type', 'message/rfc822').send(raw);
  }

  /** Runs step `index` of the case as if its time had come (the clock moved on by `hours`). */
  async function runStep(caseId: string, index: number, hours: number): Promise<unknown> {
    const step = (await detail(caseId)).schedule[index] as { id: string };
    const clock = FixedClock.install(sut.app, DateTime.now().plus({ hours, minutes: 1 }).toJSDate());
    try {
      return await runStepAgain(sut.queue, step.id);
    } finally {
      clock.restore();
    }
  }

  const hardBounces = {
    'Amazon SES via SNS': (messageId: string) => sesNotification(messageId, 'hard'),
    'SendGrid event webhook': (messageId: string) => sendgridPost([sendgridBounce(messageId)]),
    'an RFC 3464 report': (messageId: string) => dsn(messageId, 'failed', '5.1.1'),
  };

  describe.each(Object.entries(hardBounces))('a hard bounce from %s', (_adapter, bounce) => {
    it('marks the dispatch bounced, once; the next email step goes by SMS, the letter by post, a step without fallback is skipped', async () => {
      const { caseId, phone, email, mail } = await firstEmail();
      const first = await bounce(mail.messageId).expect(200);
      expect(first.body.results).toEqual([expect.objectContaining({ messageId: mail.messageId, status: 'accepted', caseId })]);
      // The provider sends it again: nothing changes.
      expect((await bounce(mail.messageId).expect(200)).body.results).toEqual([expect.objectContaining({ status: 'duplicate' })]);
      const bounced = (await touches(caseId)).filter((t) => t.kind === 'notice.bounced');
      expect(bounced).toHaveLength(1);
      expect(bounced[0]).toMatchObject({ channel: 'email', data: { status: 'bounced', bounce: 'hard', dispatch: 'notice' } });
      // The recipient's address is not kept on the trail, even where the provider echoed it.
      expect(JSON.stringify(bounced[0]!.data)).not.toContain('@example.test');

      expect(await runStep(caseId, 1, 1)).toBe('sent');
      expect(sms.messages.filter((m) => m.to === phone)).toHaveLength(1);
      expect(smtp.to(email)).toHaveLength(1);
      const trail = await touches(caseId);
      const rerouted = trail.filter((t) => t.kind === 'step.rerouted');
      expect(rerouted[0]).toMatchObject({
        channel: 'sms',
        data: { action: 'notice', from: 'email', to: 'sms', template: 'reminder-firm', reason: expect.stringMatching(/undeliverable/) },
      });
      expect(trail.filter((t) => t.kind === 'notice.sent').map((t) => t.channel)).toEqual(['email', 'sms']);
      // A rerun of the rerouted step sends nothing twice and says nothing twice.
      expect(await runStepAgain(sut.queue, (await detail(caseId)).schedule[1].id)).toBe('already-done');
      expect(sms.messages.filter((m) => m.to === phone)).toHaveLength(1);

      expect(await runStep(caseId, 2, 2)).toBe('issued');
      const letters = (await detail(caseId)).letters as { emailStatus: string | null; postStatus: string | null }[];
      expect(letters).toEqual([expect.objectContaining({ emailStatus: null, postStatus: 'queued' })]);
      expect(smtp.to(email)).toHaveLength(1);

      expect(await runStep(caseId, 3, 3)).toBe('skipped');
      const after = await touches(caseId);
      expect(after.filter((t) => t.kind === 'step.rerouted').map((t) => t.data.action)).toEqual(['notice', 'letter']);
      expect(after.find((t) => t.kind === 'step.skipped')!.data.reason).toMatch(/undeliverable.*no fallback channel/);
      expect(smtp.to(email)).toHaveLength(1);
    });
  });

  it('a forged or missing signature is a 401 and changes nothing, for each provider', async () => {
    const { caseId, email, mail } = await firstEmail();
    const wrongSns = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await sesNotification(mail.messageId, 'hard', '2', wrongSns).expect(401);
    await sendgridPost([sendgridBounce(mail.messageId)], forger.privateKey).expect(401);
    await sut.http
      .post('/v1/delivery/sendgrid')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify([sendgridBounce(mail.messageId)]))
      .expect(401);
    // Signed by SNS but for a topic not ours.
    await snsPost({
      Type: 'Notification',
      MessageId: randomUUID(),
      Message: '{}',
      Timestamp: new Date().toISOString(),
      TopicArn: 'arn:aws:sns:eu-west-1:999999999999:other',
    }).expect(401);
    // A certificate from anywhere but SNS is not trusted; one SNS does not serve now is a 503, for SNS to retry.
    const bounceOf = { Type: 'Notification', MessageId: randomUUID(), Message: '{}', Timestamp: new Date().toISOString() };
    await snsPost({ ...bounceOf, SigningCertURL: 'https://sns.eu-west-1.amazonaws.com.evil.test/cert.pem' }).expect(401);
    await snsPost({ ...bounceOf, SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-gone.pem' }).expect(503);
    // A body over the routes' bound is refused before anything reads it; a body that is not SNS's is a 400.
    await sut.http
      .post('/v1/delivery/sendgrid')
      .set('Content-Type', 'application/json')
      .send(`[${'0,'.repeat(600_000)}0]`)
      .expect(413);
    await sut.http.post('/v1/delivery/ses').set('Content-Type', 'text/plain').send('{"Type": "Notification"}').expect(400);
    // An RFC 3464 report needs an ingest key.
    await sut.http.post('/v1/delivery/dsn').set('Content-Type', 'message/rfc822').send('x').expect(401);
    expect((await touches(caseId)).filter((t) => t.kind.startsWith('notice.') && t.kind !== 'notice.sent')).toEqual([]);
    expect(await runStep(caseId, 1, 1)).toBe('sent');
    expect(smtp.to(email)).toHaveLength(2);
  });

  it('a soft bounce, an open and a later delivery keep to the order; email goes on', async () => {
    const { caseId, email, mail } = await firstEmail();
    expect((await sesNotification(mail.messageId, 'soft', '1').expect(200)).body.results[0].status).toBe('accepted');
    expect((await dsn(mail.messageId, 'delivered', '2.0.0').expect(200)).body.results[0].status).toBe('accepted');
    // The open comes by SendGrid's custom argument (opens carry no smtp-id); a delayed report after it is ignored.
    const open = {
      email: 'debtor@example.test',
      timestamp: Math.floor(Date.now() / 1000),
      event: 'open',
      sg_event_id: randomUUID(),
      sg_message_id: 'x.filter',
      dunningMessageId: mail.messageId,
    };
    expect((await sendgridPost([open]).expect(200)).body.results[0].status).toBe('accepted');
    expect((await dsn(mail.messageId, 'delayed', '4.4.7').expect(200)).body.results[0]).toMatchObject({
      status: 'ignored',
      error: 'the dispatch is already opened',
    });
    expect((await touches(caseId)).filter((t) => t.kind.startsWith('notice.') && t.kind !== 'notice.sent').map((t) => [t.kind, t.data.status])).toEqual([
      ['notice.bounced', 'soft-bounced'],
      ['notice.delivered', 'delivered'],
      ['notice.opened', 'opened'],
    ]);
    expect(await runStep(caseId, 1, 1)).toBe('sent');
    expect(smtp.to(email)).toHaveLength(2);
  });

  it("a hard bounce on a letter's email takes back its delivery on the legal record, and the limitation restart it made", async () => {
    // Under PRC law a delivered demand interrupts the limitation period (art. 195); one that never arrived interrupts nothing.
    const event = overdueEvent({ segment: 'letter-at-once', invoice: { dueDate: '2024-01-15', jurisdiction: 'CN' } });
    const response = await sut.http.post('/v1/events').set(bearer('ingest')).send(event).expect(202);
    const caseId = response.body.results[0].caseId as string;
    const mail = await waitFor('the letter by email', () => smtp.to(event.data.debtor.email)[0]);
    // The mail server has the letter before the service records it: wait for the record.
    const before = await waitFor('the restart on the invoice', async () => {
      const current = await detail(caseId);
      return current.limitation.date !== '2027-01-15' && current;
    });
    expect(before.legal.demands).toMatchObject({ sent: 1, delivered: 1 });
    expect(before.legal.limitation.restarts).toEqual([expect.objectContaining({ ground: 'demand-delivered', previousDate: '2027-01-15' })]);

    expect((await sendgridPost([sendgridBounce(mail.messageId)]).expect(200)).body.results[0]).toMatchObject({ status: 'accepted', caseId });
    const trail = await touches(caseId);
    expect(trail.find((t) => t.kind === 'notice.bounced')).toMatchObject({ data: { dispatch: 'letter', bounce: 'hard' } });
    const restart = trail.find((t) => t.kind === 'limitation.restarted')!;
    expect(trail.find((t) => t.kind === 'limitation.restart_withdrawn')).toMatchObject({
      data: { restartSeq: restart.seq, previousDate: before.limitation.date, limitationDate: '2027-01-15' },
    });
    const after = await detail(caseId);
    expect(after.legal.demands).toMatchObject({ sent: 1, delivered: 0 });
    expect(after.legal.demands.letters[0]).toMatchObject({ deliveredBy: null, deliveredOn: null });
    expect(after.legal.limitation).toMatchObject({ expiresOn: '2027-01-15', restarts: [] });
    expect(after.limitation.date).toBe('2027-01-15');

    // The same bounce reported again withdraws nothing more.
    expect((await sendgridPost([sendgridBounce(mail.messageId)]).expect(200)).body.results[0]).toMatchObject({ status: 'duplicate' });
    expect((await touches(caseId)).filter((t) => t.kind === 'limitation.restart_withdrawn')).toHaveLength(1);
  });

  it("a guarantor's letter email that bounced for good: the next letter to that guarantor goes by post", async () => {
    const guarantor = {
      externalId: `G-${randomUUID().slice(0, 8)}`,
      name: 'Grace Guarantor',
      email: `grace-${randomUUID().slice(0, 8)}@example.test`,
      address: { line1: '2 Low Road', city: 'Leeds', country: 'GB' },
      guaranteeType: 'joint',
    };
    const response = await sut.http
      .post('/v1/events')
      .set(bearer('ingest'))
      .send(overdueEvent({ guarantors: [guarantor], segment: 'guarantor-letter' }))
      .expect(202);
    const caseId = response.body.results[0].caseId as string;
    const mail = await waitFor('the guarantor notice', () => smtp.to(guarantor.email)[0]);
    expect((await dsn(mail.messageId, 'failed', '5.1.1').expect(200)).body.results[0]).toMatchObject({ status: 'accepted', caseId });

    const sent = await sut.http
      .post(`/v1/cases/${caseId}/letters`)
      .set(bearer('operator'))
      .send({ type: 'guarantor-notice', deliver: ['email', 'post'] })
      .expect(201);
    expect(sent.body.letters).toEqual([expect.objectContaining({ recipient: expect.objectContaining({ role: 'guarantor' }), email: null, post: 'queued' })]);
    const rerouted = (await touches(caseId)).filter((t) => t.kind === 'step.rerouted');
    expect(rerouted).toEqual([
      expect.objectContaining({
        channel: 'post',
        data: expect.objectContaining({ action: 'letter', to: ['post'], reason: expect.stringMatching(/guarantor's email address is undeliverable/) }),
      }),
    ]);
    expect(smtp.to(guarantor.email)).toHaveLength(1);
  });

  it('a complaint stops email to that address: the next email step goes by SMS', async () => {
    const { caseId, phone, email, mail } = await firstEmail();
    expect((await sesNotification(mail.messageId, 'complaint').expect(200)).body.results[0].status).toBe('accepted');
    expect((await touches(caseId)).find((t) => t.kind === 'notice.complained')).toMatchObject({
      channel: 'email',
      data: { status: 'complained', source: 'ses' },
    });
    expect(await runStep(caseId, 1, 1)).toBe('sent');
    expect(sms.messages.filter((m) => m.to === phone)).toHaveLength(1);
    expect(smtp.to(email)).toHaveLength(1);
    expect((await touches(caseId)).find((t) => t.kind === 'step.rerouted')!.data.reason).toMatch(/spam/);
  });

  it('answers unknown for a Message-ID that is not ours, and confirms a subscription of our topic', async () => {
    const unknown = await sendgridPost([sendgridBounce(`<${randomUUID()}@elsewhere.test>`)]).expect(200);
    expect(unknown.body.results).toEqual([expect.objectContaining({ status: 'unknown' })]);
    const subscribeUrl = `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=${randomUUID()}`;
    const confirmation = await snsPost(
      {
        Type: 'SubscriptionConfirmation',
        MessageId: randomUUID(),
        Token: 'token',
        Message: 'You have chosen to subscribe…',
        SubscribeURL: subscribeUrl,
        Timestamp: new Date().toISOString(),
      },
      '1',
    ).expect(200);
    expect(confirmation.body).toEqual({ results: [], confirmed: true });
    expect(snsHttp.fetched).toContain(subscribeUrl);
    // The certificate was fetched once, however many messages it signed.
    expect(snsHttp.fetched.filter((url) => url === CERT_URL)).toHaveLength(1);
  });
});
