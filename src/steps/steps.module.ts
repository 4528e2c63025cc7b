import { Module } from '@nestjs/common';
import { RunStepHandler } from './run-step.handler';
import { StepRunner } from './step-runner.service';

@Module({ providers: [StepRunner, RunStepHandler] })
export class StepsModule {}
