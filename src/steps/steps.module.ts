import { Module } from '@nestjs/common';
import { StepProcessor } from './step.processor';
import { StepRunner } from './step-runner.service';

@Module({ providers: [StepRunner, StepProcessor] })
export class StepsModule {}
