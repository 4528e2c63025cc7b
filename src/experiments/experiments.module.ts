import { Module } from '@nestjs/common';
import { PoliciesModule } from '../policies/policies.module';
import { ExperimentRepository } from './experiment.repository';
import { ExperimentReports } from './experiment-reports.service';
import { ExperimentsController } from './experiments.controller';
import { Experiments } from './experiments.service';
import { PolicyAssignment } from './policy-assignment.service';

/** Which policy and arm a new case gets: every role that opens cases needs it. */
@Module({ imports: [PoliciesModule], providers: [ExperimentRepository, PolicyAssignment], exports: [ExperimentRepository, PolicyAssignment] })
export class ExperimentsModule {}

/** The experiments' admin routes and report: API role only. */
@Module({ imports: [ExperimentsModule, PoliciesModule], providers: [Experiments, ExperimentReports], controllers: [ExperimentsController] })
export class ExperimentsApiModule {}
