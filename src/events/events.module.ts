import { Module } from '@nestjs/common';
import { CasesModule } from '../cases/cases.module';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

@Module({ imports: [CasesModule], providers: [EventsService], controllers: [EventsController] })
export class EventsModule {}
