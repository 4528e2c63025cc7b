import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CasesModule } from '../cases/cases.module';
import { ChannelsModule } from '../channels/channels.module';
import { ComplianceModule } from '../compliance/compliance.module';
import { EscalationsModule } from '../escalations/escalations.module';
import { SchedulingModule } from '../scheduling/scheduling.module';
import { LegalClockCheck } from './legal-clock-check.service';
import { LetterRenderer } from './letter-pdf';
import { LetterRegister } from './letter-register.service';
import { LetterRepository } from './letter.repository';
import { LetterSigner } from './letter-signer.service';
import { SigningKeyRepository } from './signing-key.repository';
import { LetterRequests } from './letter-requests.service';
import { LettersController } from './letters.controller';
import { LetterService } from './letters.service';

/** Issuing, rendering and fees, and the daily legal-clock check: the step worker, batches and the API all need them. */
@Module({
  imports: [AuditModule, CasesModule, ChannelsModule, ComplianceModule, EscalationsModule, SchedulingModule],
  providers: [LetterRepository, SigningKeyRepository, LetterRenderer, LetterSigner, LetterService, LetterRequests, LegalClockCheck],
  exports: [LetterRepository, LetterRenderer, LetterService, LetterRequests],
})
export class LettersModule {}

/** The letter routes: API role only. */
@Module({ imports: [LettersModule, CasesModule, AuditModule], providers: [LetterRegister], controllers: [LettersController] })
export class LettersApiModule {}
