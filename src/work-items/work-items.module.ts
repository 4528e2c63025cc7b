import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CasesModule } from '../cases/cases.module';
import { EscalationsModule } from '../escalations/escalations.module';
import { SchedulingModule } from '../scheduling/scheduling.module';
import { WorkItemsController } from './work-items.controller';
import { WorkItems } from './work-items.service';

/** The collectors' and legal review's work queue: API role only. */
@Module({ imports: [AuditModule, CasesModule, EscalationsModule, SchedulingModule], providers: [WorkItems], controllers: [WorkItemsController] })
export class WorkItemsModule {}
