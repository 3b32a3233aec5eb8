import { Global, Module } from '@nestjs/common';
import { ApiKeysRepository } from './api-keys.repository.js';
import { AuditRepository } from './audit.repository.js';
import { CallBreakdownRepository } from './call-breakdown.repository.js';
import { CallErasureRepository } from './call-erasure.repository.js';
import { CallQueriesRepository } from './call-queries.repository.js';
import { CallStatsRepository } from './call-stats.repository.js';
import { CallsRepository } from './calls.repository.js';
import { PrismaService } from './prisma.service.js';
import { TranscriptWritesRepository } from './transcript-writes.repository.js';
import { TurnsRepository } from './turns.repository.js';

@Global()
@Module({
  providers: [PrismaService, CallsRepository, TurnsRepository, CallQueriesRepository, CallStatsRepository, CallErasureRepository, ApiKeysRepository, TranscriptWritesRepository, AuditRepository, CallBreakdownRepository],
  exports: [PrismaService, CallsRepository, TurnsRepository, CallQueriesRepository, CallStatsRepository, CallErasureRepository, ApiKeysRepository, TranscriptWritesRepository, AuditRepository, CallBreakdownRepository],
})
export class DatabaseModule {}
