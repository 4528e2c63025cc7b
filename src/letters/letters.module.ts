import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CasesModule } from '../cases/cases.module';
import { ChannelsModule } from '../channels/channels.module';
import { EscalationsModule } from '../escalations/escalations.module';
import { SchedulingModule } from '../scheduling/scheduling.module';
import { FeeAssessor } from './fee-assessor.service';
import { LegalClockCheck } from './legal-clock-check.service';
import { LetterRenderer } from './letter-pdf';
import { LetterRegister } from './letter-register.service';
import { LetterRepository } from './letter.repository';
import { LetterRequests } from './letter-requests.service';
import { LettersController } from './letters.controller';
import { LetterService } from './letters.service';

/** Issuing, rendering and fees, and the daily legal-clock check: the step worker, batches and the API all need them. */
@Module({
  imports: [AuditModule, CasesModule, ChannelsModule, EscalationsModule, SchedulingModule],
  providers: [LetterRepository, LetterRenderer, LetterService, LetterRequests, FeeAssessor, LegalClockCheck],
  exports: [LetterRepository, LetterService, LetterRequests, FeeAssessor],
})
export class LettersModule {}

/** The letter routes: API role only. */
@Module({ imports: [LettersModule, CasesModule, AuditModule], providers: [LetterRegister], controllers: [LettersController] })
export class LettersApiModule {}
