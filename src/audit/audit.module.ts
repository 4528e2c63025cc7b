import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';
import { TouchRepository } from './touch.repository';

/** Recording touches: every role needs it. */
@Module({ providers: [TouchRepository, AuditService], exports: [TouchRepository, AuditService] })
export class AuditModule {}

/** The auditor's HTTP routes: API role only. */
@Module({ imports: [AuditModule], controllers: [AuditController] })
export class AuditApiModule {}
