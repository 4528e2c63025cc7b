import { Global, Module } from '@nestjs/common';
import { ContactGate } from './contact-gate.service';

@Global()
@Module({ providers: [ContactGate], exports: [ContactGate] })
export class ComplianceModule {}
