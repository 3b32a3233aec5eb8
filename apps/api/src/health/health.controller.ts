import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { HealthService, type Readiness } from '#libs/health';

@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** Liveness: the process answers. */
  @Get()
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness: Postgres, Redis, at least one worker, and the agent-turn queue (waiting/active/
   * failed counts, live workers; down when jobs wait with no worker alive). 503 names what is down.
   */
  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<Readiness> {
    const result = await this.health.readiness({
      postgres: () => this.health.postgres(),
      redis: () => this.health.redisPing(),
      worker: () => this.health.workers(),
      queue: () => this.health.agentQueue(),
    });
    res.status(result.status === 'ok' ? 200 : 503);
    return result;
  }
}
