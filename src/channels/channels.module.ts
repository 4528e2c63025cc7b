import { Global, Module } from '@nestjs/common';
import { EmailTemplates } from './email/email-templates';
import { Mailer } from './email/mailer.service';

@Global()
@Module({ providers: [EmailTemplates, Mailer], exports: [EmailTemplates, Mailer] })
export class ChannelsModule {}
