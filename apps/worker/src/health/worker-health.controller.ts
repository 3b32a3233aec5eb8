import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { HealthService, type Readiness } from '#libs/health';

@Controller('health')
export class WorkerHealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Postgres, Redis, and the agent-turn queue (counts, live workers, the no-worker alarm). */
  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<Readiness> {
    const result = await this.health.readiness({
      postgres: () => this.health.postgres(),
      redis: () => this.health.redisPing(),
      queue: () => this.health.agentQueue(),
    });
    res.status(result.status === 'ok' ? 200 : 503);
    return result;
  }
}
