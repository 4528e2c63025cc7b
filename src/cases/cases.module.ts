import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ComplianceModule } from '../compliance/compliance.module';
import { EscalationsModule } from '../escalations/escalations.module';
import { ExperimentsModule } from '../experiments/experiments.module';
import { PoliciesModule } from '../policies/policies.module';
import { SchedulingModule } from '../scheduling/scheduling.module';
import { CaseRepository } from './case.repository';
import { CaseClosing } from './case-closing.service';
import { CaseCommands } from './case-commands.service';
import { CaseHolds } from './case-holds.service';
import { CaseOpening } from './case-opening.service';
import { CaseQueries } from './case-queries.service';
import { CaseStandings } from './case-standings.service';
import { CasesController } from './cases.controller';
import { CommitmentRepository } from './commitment.repository';
import { Commitments } from './commitments.service';
import { Contracts } from './contracts.service';
import { DebtorFlags } from './debtor-flags.service';
import { DebtorRepository } from './debtor.repository';
import { FeeAssessor } from './fee-assessor.service';
import { FeeRepository } from './fee.repository';
import { GuarantorRepository } from './guarantor.repository';
import { HoldRepository } from './hold.repository';
import { InvoiceRepository } from './invoice.repository';
import { LimitationClock } from './limitation-clock.service';
import { PaymentRepository } from './payment.repository';
import { UnsubscribeController } from './unsubscribe.controller';
import { Unsubscribes } from './unsubscribes.service';

const REPOSITORIES = [
  CaseRepository,
  DebtorRepository,
  InvoiceRepository,
  GuarantorRepository,
  HoldRepository,
  CommitmentRepository,
  PaymentRepository,
  FeeRepository,
];
const SERVICES = [CaseOpening, CaseClosing, CaseCommands, CaseHolds, CaseStandings, Commitments, Contracts, DebtorFlags, FeeAssessor, LimitationClock];

/** Case state and its changes: events, operator commands, the step worker and the periodic checks all use them. */
@Module({
  imports: [AuditModule, SchedulingModule, EscalationsModule, PoliciesModule, ComplianceModule, ExperimentsModule],
  providers: [...REPOSITORIES, ...SERVICES],
  exports: [...REPOSITORIES, ...SERVICES],
})
export class CasesModule {}

/** The case routes and the debtor's opt-out page: API role only. */
@Module({
  imports: [CasesModule, AuditModule, SchedulingModule, ExperimentsModule],
  providers: [CaseQueries, Unsubscribes],
  controllers: [CasesController, UnsubscribeController],
})
export class CasesApiModule {}
