import { Global, Module } from '@nestjs/common';
import { PiiRedactor } from '#libs/redaction';
import { CallSessionStore } from './call-session.store.js';

@Global()
@Module({ providers: [CallSessionStore, PiiRedactor], exports: [CallSessionStore] })
export class SessionsModule {}
