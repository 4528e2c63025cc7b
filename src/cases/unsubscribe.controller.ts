import { Controller, Get, HttpCode, NotFoundException, Param, Post, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../common/auth/roles.decorator';
import { ApiErrors } from '../docs/decorators';
import { Unsubscribes } from './unsubscribes.service';

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head>` +
  `<body style="font-family:sans-serif;max-width:36em;margin:3em auto;line-height:1.5"><h1 style="font-size:1.3em">${title}</h1>${body}</body></html>`;

/**
 * The shape of the tokens the service issues (base64url, or hex from before): anything else, a NUL
 * or an unpaired surrogate among them, is an unknown link without asking the database, which
 * would refuse such text with an error.
 */
const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * The pages are HTML, set once the link is known: a header set before the handler (`@Header`)
 * would also label its 404, which is the JSON error body, as HTML.
 */
const html = (res: Response, body: string) => {
  res.type('text/html; charset=utf-8');
  return body;
};

/**
 * Public routes: the token in the link is the credential. GET only shows a confirmation form, so a
 * mail scanner that follows links unsubscribes nobody; POST (the form, or a mail client's RFC 8058
 * one-click request) does it.
 */
@ApiTags('Unsubscribe')
@ApiParam({ name: 'token', description: "The debtor's unsubscribe token, from the link in every email and SMS" })
@ApiErrors([404, 'Unknown unsubscribe link'], 503)
@Controller('v1/unsubscribe')
export class UnsubscribeController {
  constructor(private readonly unsubscribes: Unsubscribes) {}

  @Get(':token')
  @Public()
  @ApiOperation({
    summary: 'Unsubscribe page',
    description: 'An HTML confirmation form (English and Chinese). Changes nothing, so a mail scanner that follows links unsubscribes nobody.',
  })
  @ApiOkResponse({ description: 'The confirmation page', content: { 'text/html': { schema: { type: 'string' } } } })
  async confirm(@Param('token') token: string, @Res({ passthrough: true }) res: Response): Promise<string> {
    if (!TOKEN.test(token) || !(await this.unsubscribes.exists(token))) throw new NotFoundException('unknown unsubscribe link');
    return html(
      res,
      page(
        'Stop collection messages / 停止接收催收消息',
        `<p>Confirm that you no longer want reminder emails or text messages about your account. The amounts due are not cancelled, and formal letters required by law may still be sent by post.</p>
       <p>确认后，我们将不再向您发送提醒邮件或短信。欠款不因此取消，法律要求的正式函件仍可能以邮寄方式送达。</p>
       <form method="post"><button type="submit">Confirm / 确认</button></form>`,
      ),
    );
  }

  @Post(':token')
  @Public()
  @ApiOperation({
    summary: 'Unsubscribe',
    description:
      "The form's submit, or a mail client's RFC 8058 one-click request: sets cease-contact on the debtor, which stops reminder emails and SMS on every case (letters go by post only). A second request changes nothing.",
  })
  @ApiOkResponse({ description: 'A confirmation page', content: { 'text/html': { schema: { type: 'string' } } } })
  @HttpCode(200)
  async unsubscribe(@Param('token') token: string, @Res({ passthrough: true }) res: Response): Promise<string> {
    if (!TOKEN.test(token) || !(await this.unsubscribes.unsubscribe(token))) throw new NotFoundException('unknown unsubscribe link');
    return html(res, page('Done / 已完成', '<p>You will receive no more reminder emails or text messages. 您将不再收到提醒邮件或短信。</p>'));
  }
}
