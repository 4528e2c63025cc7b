import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ChannelsModule } from '../channels/channels.module';
import { LettersModule } from '../letters/letters.module';
import { ComplianceModule } from '../compliance/compliance.module';
import { JobsModule } from '../jobs/jobs.module';
import { ContactContents } from './contact-content';
import { Contacts } from './contacts.service';
import { Findings } from './findings.service';
import { ContactsController, FindingsController } from './quality.controller';
import { QualityRepository } from './quality.repository';
import { QaRubric } from './rubric.service';
import { QaScoring } from './scoring.service';

/** The rubric (read at boot by every role, so a bad QA_FILE stops any process) and the QA tables. */
@Module({ providers: [QaRubric, QualityRepository], exports: [QaRubric, QualityRepository] })
export class QualityModule {}

/** Recording contacts and the review queue: API role only. */
@Module({ imports: [QualityModule, AuditModule], providers: [Contacts, Findings], controllers: [ContactsController, FindingsController] })
export class QualityApiModule {}

/** The scoring sweep: worker role only. */
@Module({ imports: [QualityModule, AuditModule, ChannelsModule, ComplianceModule, LettersModule, JobsModule], providers: [ContactContents, QaScoring] })
export class QualityWorkerModule {}
