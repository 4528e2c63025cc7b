import { Global, Module } from '@nestjs/common';
import { FeeAssessor } from './fee-assessor.service';
import { LegalClockCheck } from './legal-clock-check.service';
import { LetterRenderer } from './letter-pdf';
import { LetterRegister } from './letter-register.service';
import { LetterRequests } from './letter-requests.service';
import { LettersController } from './letters.controller';
import { LetterService } from './letters.service';

/** Issuing, rendering and fees: the step worker, batches and the API all need them. */
@Global()
@Module({
  providers: [LetterRenderer, LetterService, LetterRequests, FeeAssessor, LegalClockCheck],
  exports: [LetterRenderer, LetterService, LetterRequests, FeeAssessor, LegalClockCheck],
})
export class LettersModule {}

/** The letter routes: API role only. */
@Module({ providers: [LetterRegister], controllers: [LettersController] })
export class LettersApiModule {}
