import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth/roles.decorator';
import { ApiErrors } from '../docs/decorators';
import { AuditService, VerifyReport } from './audit.service';

@ApiTags('Audit')
@ApiErrors(503)
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** Walks every case's hash chain and the seals over their heads. */
  @Get('verify')
  @Roles('auditor')
  @ApiOperation({
    summary: 'Verify the audit trail',
    description: "Walks every case's hash chain and the seals over their heads: `{ok, checked, seals, brokenAt?}`; `brokenAt` names the first touch or seal that does not verify.",
  })
  @ApiOkResponse({ description: 'The verification report (`ok: false` when a chain is broken)' })
  verify(): Promise<VerifyReport> {
    return this.audit.verify();
  }
}
