import { Global, Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';

/** Recording touches: every role needs it. */
@Global()
@Module({ providers: [AuditService], exports: [AuditService] })
export class AuditModule {}

/** The auditor's HTTP routes: API role only. */
@Module({ controllers: [AuditController] })
export class AuditApiModule {}
