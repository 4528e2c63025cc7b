import { Controller, Get } from '@nestjs/common';
import { Roles } from '../common/auth/roles.decorator';
import { AuditService, VerifyReport } from './audit.service';

@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** Walks every case's hash chain and the seals over their heads. */
  @Get('verify')
  @Roles('auditor')
  verify(): Promise<VerifyReport> {
    return this.audit.verify();
  }
}
