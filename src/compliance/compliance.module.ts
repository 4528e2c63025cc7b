import { Module } from '@nestjs/common';
import { ContactGate } from './contact-gate.service';

@Module({ providers: [ContactGate], exports: [ContactGate] })
export class ComplianceModule {}
