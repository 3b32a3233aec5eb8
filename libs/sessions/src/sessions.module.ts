import { Global, Module } from '@nestjs/common';
import { CallSessionStore } from './call-session.store.js';

@Global()
@Module({ providers: [CallSessionStore], exports: [CallSessionStore] })
export class SessionsModule {}
