import { Module } from '@nestjs/common';
import { ChannelsModule } from '../channels/channels.module';
import { PolicyRegistry } from './policy-registry.service';
import { PolicyRepository } from './policy.repository';

@Module({ imports: [ChannelsModule], providers: [PolicyRepository, PolicyRegistry], exports: [PolicyRegistry] })
export class PoliciesModule {}
