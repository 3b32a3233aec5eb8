import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { AppConfig } from '#libs/config';
import { PrismaClient } from './generated/client.js';

/**
 * The one Prisma client of a process, over a `pg` pool. Only `*.repository.ts` files use it.
 * Connections are opened lazily, so the apps start (and report "not ready") while Postgres is down.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(config: AppConfig) {
    super({
      adapter: new PrismaPg({
        connectionString: config.DATABASE_URL,
        max: config.DATABASE_POOL_SIZE,
        // Fail fast instead of queueing behind a database that does not answer.
        connectionTimeoutMillis: 2000,
        query_timeout: 10_000,
        idleTimeoutMillis: 30_000,
      }),
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
