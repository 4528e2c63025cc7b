import { Body, Controller, Headers, HttpCode, Inject, Post, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Public, Roles } from '../common/auth/roles.decorator';
import { ValidationFailed } from '../common/errors';
import { parseOrThrow } from '../common/zod-validation';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiErrors, ApiSignedBy, ApiZodBody } from '../docs/decorators';
import { DsnRefusal, dsnReport } from './dsn';
import type { InboundReport } from './inbound-report';
import { type InboundResult, InboundReports } from './inbound-reports.service';
import { sendgridBody, sendgridRefusal, sendgridReport, SENDGRID_SIGNATURE_HEADER, SENDGRID_TIMESTAMP_HEADER } from './sendgrid-events';
import { sesReport } from './ses-events';
import { isSnsUrl, SnsCertificates, SnsHttp } from './sns-certificates';
import { snsMessage, snsRefusal } from './sns-message';

export const inboundResponse = z.object({
  results: z.array(
    z.object({
      messageId: z.string().nullable(),
      status: z.enum(['accepted', 'duplicate', 'ignored', 'unknown', 'rejected']),
      caseId: z.uuid().optional(),
      error: z.string().optional(),
    }),
  ),
  confirmed: z.boolean().optional(),
});
type Answer = { results: (InboundResult | { messageId: null; status: 'rejected'; error: string })[]; confirmed?: boolean };

/** The raw bytes a provider route was given (bootstrap reads these routes' bodies raw); anything else is a 400. */
function rawOf(body: unknown): Buffer {
  if (Buffer.isBuffer(body) && body.length > 0) return body;
  throw new ValidationFailed([{ field: 'body', reason: 'must be the raw request body' }]);
}

function json(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ValidationFailed([{ field: 'body', reason: 'must be JSON' }]);
  }
}

/**
 * Delivery status in: email providers' events and RFC 3464 reports, mapped by Message-ID onto the
 * dispatches they are about (docs/delivery-status.md).
 */
@ApiTags('Delivery status')
@ApiErrors(503)
@Controller('v1/delivery')
export class DeliveryStatusController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly inbound: InboundReports,
    private readonly certificates: SnsCertificates,
    private readonly sns: SnsHttp,
  ) {}

  /**
   * Amazon SES events via an SNS HTTPS subscription. Authenticated by the SNS message signature
   * (no API key): SignatureVersion 1 or 2 with the certificate at SigningCertURL, on an SNS host,
   * from a topic in SES_SNS_TOPIC_ARNS. A forged or missing signature is a 401 and changes nothing.
   * A SubscriptionConfirmation from such a topic is confirmed.
   */
  @Post('ses')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Amazon SES events (via SNS)',
    description:
      'An SNS message (sent as text/plain JSON) carrying an SES notification or event: Bounce, Complaint, Delivery, Open, DeliveryDelay. ' +
      'Authenticated by the SNS signature, not an API key; a subscription confirmation from a configured topic is confirmed.',
  })
  @ApiConsumes('application/json', 'text/plain')
  @ApiZodBody(snsMessage, { description: 'The SNS message as SNS posts it (as text/plain), read raw for its signature' })
  @ApiOkResponse({ description: 'One result per event', standardSchema: inboundResponse })
  @ApiSignedBy('SNS message signature (a topic in SES_SNS_TOPIC_ARNS)')
  @ApiErrors(400)
  async ses(@Body() body: unknown): Promise<Answer> {
    const message = parseOrThrow(snsMessage, json(rawOf(body)));
    const refusal = await snsRefusal(message, this.config.SES_SNS_TOPIC_ARNS, this.certificates);
    if (refusal?.status === 503) throw new ServiceUnavailableException(refusal.reason);
    if (refusal) throw new UnauthorizedException(refusal.reason);
    if (message.Type === 'UnsubscribeConfirmation') return { results: [] };
    if (message.Type === 'SubscriptionConfirmation') {
      if (!isSnsUrl(message.SubscribeURL!)) throw new ValidationFailed([{ field: 'SubscribeURL', reason: 'must be an SNS URL' }]);
      // SNS sends the confirmation again if it is not answered: the confirmation is safe to repeat.
      await this.sns.get(message.SubscribeURL!).catch(() => {
        throw new ServiceUnavailableException('the subscription could not be confirmed with SNS; SNS will send the confirmation again');
      });
      return { results: [], confirmed: true };
    }
    let report: InboundReport | null;
    try {
      report = sesReport(message.Message);
    } catch {
      throw new ValidationFailed([{ field: 'Message', reason: 'must be an SES notification or event (JSON with mail and its type)' }]);
    }
    return { results: report ? await this.inbound.applyAll([report], 'provider:ses') : [] };
  }

  /**
   * SendGrid's Event Webhook. Authenticated by its signature (no API key): ECDSA P-256 over the
   * timestamp header and the raw body, verified with SENDGRID_WEBHOOK_PUBLIC_KEY. A forged or
   * missing signature is a 401 and changes nothing. Each event is applied on its own.
   */
  @Post('sendgrid')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'SendGrid events',
    description:
      "SendGrid's Event Webhook batch (a JSON array): delivered, open, bounce (bounce or blocked), dropped, deferred, spamreport. Authenticated by the signature headers, not an API key.",
  })
  @ApiHeader({ name: SENDGRID_SIGNATURE_HEADER, required: true, description: 'base64 ECDSA signature' })
  @ApiHeader({ name: SENDGRID_TIMESTAMP_HEADER, required: true, description: 'the signed timestamp' })
  @ApiZodBody(sendgridBody, { description: "SendGrid's events, read raw for the signature" })
  @ApiOkResponse({
    description: 'One result per event that reports a delivery status, in order, then one `rejected` per event that is none',
    standardSchema: inboundResponse,
  })
  @ApiSignedBy('SendGrid Event Webhook signature')
  @ApiErrors(400)
  async sendgrid(
    @Body() body: unknown,
    @Headers(SENDGRID_SIGNATURE_HEADER) signature: string | undefined,
    @Headers(SENDGRID_TIMESTAMP_HEADER) timestamp: string | undefined,
  ): Promise<Answer> {
    const raw = rawOf(body);
    const refusal = sendgridRefusal(this.config.SENDGRID_WEBHOOK_PUBLIC_KEY, signature, timestamp, raw);
    if (refusal) throw new UnauthorizedException(refusal);
    const events = parseOrThrow(sendgridBody, json(raw));
    const results: Answer['results'] = [];
    const reports: InboundReport[] = [];
    for (const event of events) {
      try {
        const report = sendgridReport(event);
        if (report) reports.push(report);
      } catch {
        results.push({ messageId: null, status: 'rejected', error: 'not a SendGrid event (no "event" name)' });
      }
    }
    return { results: [...(await this.inbound.applyAll(reports, 'provider:sendgrid')), ...results] };
  }

  /**
   * An RFC 3464 delivery status notification, posted as the raw message (`message/rfc822`) with an
   * `ingest` key: failed with 5.x.x is a hard bounce, 4.x.x or delayed a soft one, delivered a delivery.
   */
  @Post('dsn')
  @Roles('ingest')
  @HttpCode(200)
  @ApiOperation({
    summary: 'RFC 3464 delivery status notification',
    description: 'The bounce message as received (a multipart/report with report-type=delivery-status), Content-Type message/rfc822.',
  })
  @ApiConsumes('message/rfc822')
  @ApiBody({ description: 'The raw message', schema: { type: 'string', format: 'binary' } })
  @ApiOkResponse({ description: 'The result for the reported message', standardSchema: inboundResponse })
  @ApiErrors(400)
  async dsn(@Body() body: unknown, @Actor() actor: string): Promise<Answer> {
    const raw = rawOf(body);
    let report: InboundReport | null;
    try {
      report = await dsnReport(raw);
    } catch (error) {
      throw new ValidationFailed([{ field: 'body', reason: error instanceof DsnRefusal ? error.message.replace(/^body: /, '') : 'must be a MIME message' }]);
    }
    return { results: report ? await this.inbound.applyAll([report], actor) : [] };
  }
}
