export { DatabaseModule } from './database.module.js';
export { PrismaService } from './prisma.service.js';
export { CallsRepository, statusRank } from './calls.repository.js';
export { TurnsRepository } from './turns.repository.js';
export * from './records.js';
export { Prisma } from './generated/client.js';
export type { Call, Turn, CallEvent, ApiKey } from './generated/client.js';
