import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';
import { EvidencePartitions } from './evidence-partitions.service';
import { PartitionRepository } from './partition.repository';
import { TouchRepository } from './touch.repository';

/** Recording touches (every role needs it), and the month partitions the touches go to. */
@Module({ providers: [TouchRepository, AuditService, PartitionRepository, EvidencePartitions], exports: [TouchRepository, AuditService, EvidencePartitions] })
export class AuditModule {}

/** The auditor's HTTP routes: API role only. */
@Module({ imports: [AuditModule], controllers: [AuditController] })
export class AuditApiModule {}
