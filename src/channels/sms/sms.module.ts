import { Global, Module } from '@nestjs/common';
import { SmsReceiptsController } from './sms-receipts.controller';
import { SmsReceipts } from './sms-receipts.service';
import { SmsSender, smsSenderProvider } from './sms-sender';
import { SmsTemplates } from './sms-templates';

/** The SMS channel for every role: the sender (HTTP provider or file outbox) and the templates. */
@Global()
@Module({ providers: [smsSenderProvider, SmsTemplates], exports: [SmsSender, SmsTemplates] })
export class SmsModule {}

/** The provider's delivery receipts (API role). AuditService, Clock and DataSource come from global modules. */
@Module({ providers: [SmsReceipts], controllers: [SmsReceiptsController], exports: [SmsReceipts] })
export class SmsApiModule {}
