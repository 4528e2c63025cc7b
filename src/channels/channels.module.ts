import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DispatchRepository } from './dispatch.repository';
import { EmailTemplates } from './email/email-templates';
import { Mailer } from './email/mailer.service';
import { SmsReceiptsController } from './sms/sms-receipts.controller';
import { SmsReceipts } from './sms/sms-receipts.service';
import { smsSenderProvider, SmsSender } from './sms/sms-sender';
import { SmsTemplates } from './sms/sms-templates';

/** Email and SMS: templates, senders, and the dispatch ledger every outgoing message is written to. */
@Module({
  providers: [EmailTemplates, Mailer, smsSenderProvider, SmsTemplates, DispatchRepository],
  exports: [EmailTemplates, Mailer, SmsSender, SmsTemplates, DispatchRepository],
})
export class ChannelsModule {}

/** The SMS provider's delivery receipts (API role). */
@Module({ imports: [ChannelsModule, AuditModule], providers: [SmsReceipts], controllers: [SmsReceiptsController] })
export class SmsApiModule {}
