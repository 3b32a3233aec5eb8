import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HealthService } from '#libs/health';

/** How often the worker writes the agent-turn queue's counts to its log. */
const EVERY_MS = 30_000;

/**
 * Queue health in the logs, not only behind /health/ready: a line every 30 s with the
 * agent-turn queue's counts (HealthService logs the no-live-worker alarm itself, at error).
 */
@Injectable()
export class QueueMonitor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(QueueMonitor.name);
  private timer?: NodeJS.Timeout;

  constructor(private readonly health: HealthService) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.report(), EVERY_MS);
    this.timer.unref();
  }

  async report(): Promise<void> {
    try {
      const snapshot = await this.health.queueSnapshot();
      const busy = snapshot.waiting > 0 || snapshot.active > 0;
      this.logger[busy ? 'log' : 'debug']({ queue: 'agent-turns', ...snapshot }, 'agent-turn queue');
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'agent-turn queue counts unavailable');
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}
