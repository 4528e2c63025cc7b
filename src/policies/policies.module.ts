import { Global, Module } from '@nestjs/common';
import { PolicyRegistry } from './policy-registry.service';

@Global()
@Module({ providers: [PolicyRegistry], exports: [PolicyRegistry] })
export class PoliciesModule {}
