import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CasesModule } from '../cases/cases.module';
import { EscalationsModule } from '../escalations/escalations.module';
import { SelfServiceController, SelfServiceLinksController } from './self-service.controller';
import { SELF_SERVICE_FONTS_ROUTE, serveSelfServiceFonts } from './self-service-fonts';
import { SelfService } from './self-service.service';
import { SelfServiceRepository } from './self-service.repository';

/** The debtor's self-service page behind the signed link in every notice (see docs/self-service.md). */
@Module({
  imports: [CasesModule, AuditModule, EscalationsModule],
  providers: [SelfService, SelfServiceRepository],
  controllers: [SelfServiceController, SelfServiceLinksController],
})
export class SelfServiceModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(serveSelfServiceFonts).forRoutes(SELF_SERVICE_FONTS_ROUTE);
  }
}
