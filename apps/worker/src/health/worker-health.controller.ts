import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get, Res } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Response } from 'express';
import { HealthService, type Readiness } from '#libs/health';
import { QueueName } from '#libs/queues';

@Controller('health')
export class WorkerHealthController {
  constructor(
    private readonly health: HealthService,
    @InjectQueue(QueueName.AgentTurns) private readonly turns: Queue,
  ) {}

  @Get()
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<Readiness> {
    const result = await this.health.readiness({
      postgres: () => this.health.postgres(),
      redis: () => this.health.redisPing(),
      queue: () => this.health.check(() => this.turns.getJobCounts('waiting', 'active', 'failed')),
    });
    res.status(result.status === 'ok' ? 200 : 503);
    return result;
  }
}
