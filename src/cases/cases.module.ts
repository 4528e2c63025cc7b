import { Global, Module } from '@nestjs/common';
import { CaseCommands } from './case-commands.service';
import { CaseHolds } from './case-holds.service';
import { CaseLifecycle } from './case-lifecycle.service';
import { CaseQueries } from './case-queries.service';
import { CasesController } from './cases.controller';
import { Commitments } from './commitments.service';
import { UnsubscribeController, Unsubscribes } from './unsubscribe.controller';

/** Case state changes: events, operator commands, the step worker and the periodic checks all use them. */
@Global()
@Module({ providers: [CaseLifecycle, CaseHolds, Commitments], exports: [CaseLifecycle, CaseHolds, Commitments] })
export class CaseLifecycleModule {}

/** The case routes: API role only. */
@Module({ providers: [CaseQueries, CaseCommands, Unsubscribes], controllers: [CasesController, UnsubscribeController] })
export class CasesModule {}
