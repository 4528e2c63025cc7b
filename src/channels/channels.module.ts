import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DeliveryReports } from './delivery-reports.service';
import { DispatchRepository } from './dispatch.repository';
import { EmailAddressRepository } from './email/email-address.repository';
import { EmailTemplates } from './email/email-templates';
import { Mailer } from './email/mailer.service';
import { SmsReceiptsController } from './sms/sms-receipts.controller';
import { SmsReceipts } from './sms/sms-receipts.service';
import { smsSenderProvider, SmsSender } from './sms/sms-sender';
import { SmsTemplates } from './sms/sms-templates';

/** Email and SMS: templates, senders, and the dispatch ledger every outgoing message is written to. */
@Module({
  providers: [EmailTemplates, Mailer, smsSenderProvider, SmsTemplates, DispatchRepository, EmailAddressRepository],
  exports: [EmailTemplates, Mailer, SmsSender, SmsTemplates, DispatchRepository, EmailAddressRepository],
})
export class ChannelsModule {}

/** The SMS provider's delivery receipts (API role). */
@Module({ imports: [ChannelsModule, AuditModule], providers: [DeliveryReports, SmsReceipts], controllers: [SmsReceiptsController], exports: [DeliveryReports] })
export class SmsApiModule {}
