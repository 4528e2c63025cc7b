import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Actor } from '../../common/auth/actor.decorator';
import { Roles } from '../../common/auth/roles.decorator';
import { ValidationFailed } from '../../common/errors';
import { parseOrThrow } from '../../common/zod-validation';
import { ApiErrors, ApiZodBody } from '../../docs/decorators';
import { MAX_RECEIPTS_PER_REQUEST, ReceiptResult, smsReceipt, SmsReceipts } from './sms-receipts.service';

/** The body as documented: one receipt or a batch (the handler checks the parts, one by one in a batch). */
export const receiptsRequestBody = z.union([smsReceipt, z.strictObject({ receipts: z.array(smsReceipt).min(1).max(MAX_RECEIPTS_PER_REQUEST) })]);

export const receiptsResponse = z.object({
  results: z.array(
    z.object({
      reference: z.string().nullable(),
      status: z.enum(['accepted', 'duplicate', 'ignored', 'rejected']),
      caseId: z.uuid().optional(),
      error: z.string().optional(),
    }),
  ),
});
// Fails to compile if ReceiptResult drifts from the documented result.
true satisfies ReceiptResult extends z.output<typeof receiptsResponse>['results'][number] ? true : never;

@ApiTags('SMS')
@ApiErrors(503)
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
  @ApiOperation({
    summary: 'SMS delivery receipts',
    description:
      `The SMS provider's delivery reports: one receipt, or \`{"receipts": [...]}\` with up to ${MAX_RECEIPTS_PER_REQUEST}; \`reference\` is the dispatch id sent with the message. ` +
      'Repeating a receipt changes nothing; a later failure cannot undo a delivery (`ignored`). In a batch each receipt is rejected on its own.',
  })
  @ApiZodBody(receiptsRequestBody)
  @ApiOkResponse({ description: 'One result per receipt, in order', standardSchema: receiptsResponse })
  @ApiErrors(400, [404, 'A lone receipt whose reference is no SMS dispatch'])
  async post(@Body() body: unknown, @Actor() actor: string): Promise<{ results: ReceiptResult[] }> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ValidationFailed([{ field: 'body', reason: 'must be one receipt object or {"receipts": [...]}' }]);
    }
    if ('receipts' in body) {
      const { receipts } = body;
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
