import { Global, Module } from '@nestjs/common';
import { CallsRepository } from './calls.repository.js';
import { PrismaService } from './prisma.service.js';
import { TurnsRepository } from './turns.repository.js';

@Global()
@Module({
  providers: [PrismaService, CallsRepository, TurnsRepository],
  exports: [PrismaService, CallsRepository, TurnsRepository],
})
export class DatabaseModule {}
