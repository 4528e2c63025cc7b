import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CasesModule } from '../cases/cases.module';
import { ChannelsModule } from '../channels/channels.module';
import { ComplianceModule } from '../compliance/compliance.module';
import { EscalationsModule } from '../escalations/escalations.module';
import { LettersModule } from '../letters/letters.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SchedulingModule } from '../scheduling/scheduling.module';
import { EscalateAction } from './actions/escalate.action';
import { FeeAction } from './actions/fee.action';
import { LetterAction } from './actions/letter.action';
import { NoticeAction } from './actions/notice.action';
import { TerminateContractAction } from './actions/terminate-contract.action';
import { WriteOffAction } from './actions/write-off.action';
import { NoticeMessages } from './notice-messages';
import { RunStepHandler } from './run-step.handler';
import { StepFailures } from './step-failures';
import { StepRunner } from './step-runner.service';
import { StepSettlement } from './step-settlement';

const ACTIONS = [NoticeAction, LetterAction, FeeAction, EscalateAction, TerminateContractAction, WriteOffAction];

/** The step worker: worker role only. */
@Module({
  imports: [AuditModule, CasesModule, ChannelsModule, ComplianceModule, EscalationsModule, LettersModule, MetricsModule, SchedulingModule],
  providers: [...ACTIONS, NoticeMessages, StepSettlement, StepFailures, StepRunner, RunStepHandler],
})
export class StepsModule {}
