import { Module } from '@nestjs/common';
import { ContactGate } from './contact-gate.service';
import { Holidays } from './holidays.service';

@Module({ providers: [Holidays, ContactGate], exports: [Holidays, ContactGate] })
export class ComplianceModule {}
