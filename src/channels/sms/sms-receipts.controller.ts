import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Actor } from '../../common/auth/actor.decorator';
import { Roles } from '../../common/auth/roles.decorator';
import { ValidationFailed } from '../../common/errors';
import { parseOrThrow } from '../../common/zod-validation';
import { MAX_RECEIPTS_PER_REQUEST, ReceiptResult, smsReceipt, SmsReceipts } from './sms-receipts.service';

@Controller('v1/sms/receipts')
export class SmsReceiptsController {
  constructor(private readonly receipts: SmsReceipts) {}

  /**
   * The SMS provider's delivery reports, posted with an `ingest` key: one receipt, or
   * `{receipts: [...]}` with up to 1000. Answers 200 with one result per receipt. A lone receipt
   * that fails validation is a 400 naming the field, one whose reference is unknown a 404; in a
   * batch each is `rejected` on its own. Repeating a receipt changes nothing.
   */
  @Post()
  @HttpCode(200)
  @Roles('ingest')
  async post(@Body() body: unknown, @Actor() actor: string): Promise<{ results: ReceiptResult[] }> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ValidationFailed([{ field: 'body', reason: 'must be one receipt object or {"receipts": [...]}' }]);
    }
    if ('receipts' in body) {
      const { receipts } = body as { receipts: unknown };
      if (!Array.isArray(receipts) || receipts.length === 0) throw new ValidationFailed([{ field: 'receipts', reason: 'must be a non-empty array' }]);
      if (receipts.length > MAX_RECEIPTS_PER_REQUEST) {
        throw new ValidationFailed([{ field: 'receipts', reason: `at most ${MAX_RECEIPTS_PER_REQUEST} receipts per request, got ${receipts.length}` }]);
      }
      if (Object.keys(body).length > 1) throw new ValidationFailed([{ field: 'body', reason: 'only "receipts" is allowed beside a batch' }]);
      return { results: await this.receipts.applyAll(receipts, actor) };
    }
    return { results: [await this.receipts.apply(parseOrThrow(smsReceipt, body), actor)] };
  }
}
