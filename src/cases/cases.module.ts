import { Module } from '@nestjs/common';
import { CaseLifecycle } from './case-lifecycle.service';
import { CaseQueries } from './case-queries.service';
import { CasesController } from './cases.controller';

@Module({ providers: [CaseLifecycle, CaseQueries], controllers: [CasesController], exports: [CaseLifecycle] })
export class CasesModule {}
