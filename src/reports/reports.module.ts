import { Module } from '@nestjs/common';
import { ReportRepository } from './report.repository';
import { ReportsController } from './reports.controller';
import { Reports } from './reports.service';

/** The reports' figures: exported for the reports page, which draws them. */
@Module({ providers: [ReportRepository, Reports], exports: [Reports] })
export class ReportsModule {}

/** The reports' HTTP routes: API role only. */
@Module({ imports: [ReportsModule], controllers: [ReportsController] })
export class ReportsApiModule {}
