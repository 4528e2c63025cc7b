import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';
import { EvidencePartitions } from './evidence-partitions.service';
import { EvidenceRetention } from './evidence-retention.service';
import { PartitionDdl } from './partition-ddl';
import { PartitionRepository } from './partition.repository';
import { RetentionRepository } from './retention.repository';
import { TouchRepository } from './touch.repository';

/** Recording touches (every role needs it), and the month partitions the touches go to. */
@Module({
  providers: [TouchRepository, RetentionRepository, AuditService, PartitionRepository, PartitionDdl, EvidencePartitions],
  exports: [TouchRepository, AuditService, EvidencePartitions, PartitionRepository, PartitionDdl, RetentionRepository],
})
export class AuditModule {}

/** The auditor's HTTP routes and the administrator's retention runs: API role only. */
@Module({ imports: [AuditModule], providers: [EvidenceRetention], controllers: [AuditController] })
export class AuditApiModule {}
