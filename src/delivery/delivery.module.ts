import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CasesModule } from '../cases/cases.module';
import { ChannelsModule, SmsApiModule } from '../channels/channels.module';
import { DeliveryStatusController } from './delivery-status.controller';
import { InboundReports } from './inbound-reports.service';
import { SnsCertificates, SnsHttp } from './sns-certificates';

/** Delivery status in (API role): email providers' events and RFC 3464 reports onto the dispatches. */
@Module({
  imports: [ChannelsModule, AuditModule, SmsApiModule, CasesModule],
  providers: [InboundReports, SnsCertificates, SnsHttp],
  controllers: [DeliveryStatusController],
})
export class DeliveryModule {}
