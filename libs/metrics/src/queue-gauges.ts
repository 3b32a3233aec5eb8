import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueName } from '#libs/queues';
import { REDIS } from '#libs/redis';
import { MetricsService } from './metrics.service.js';

const STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
/** Scrapes of several replicas (and Grafana's refresh) within this window share one read. */
const CACHE_MS = 2000;

/**
 * Queue depth per queue and state, read at scrape time with one getJobCounts (a few O(1)
 * Redis commands) per queue, cached briefly; and Redis connection errors of this process.
 * Every process exports the same queue counts: dashboards take `max by (queue, state)`.
 */
@Injectable()
export class QueueGauges implements OnModuleInit {
  private cached?: { at: number; counts: Promise<Array<Record<string, number>>> };

  constructor(
    private readonly metrics: MetricsService,
    @InjectQueue(QueueName.AgentTurns) private readonly agentTurns: Queue,
    @InjectQueue(QueueName.Transcripts) private readonly transcripts: Queue,
    @InjectQueue(QueueName.CallLifecycle) private readonly lifecycle: Queue,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  onModuleInit(): void {
    this.redis.on('error', () => this.metrics.countStoreError('redis'));
    const queues = [this.agentTurns, this.transcripts, this.lifecycle];
    this.metrics.gauge('switchboard_queue_jobs', 'Jobs per queue and state (waiting includes prioritized)', ['queue', 'state'], async (set) => {
      const counts = await this.read(queues).catch(() => undefined);
      if (!counts) return; // Redis down: no sample rather than a misleading zero
      queues.forEach((queue, i) => {
        for (const state of STATES) {
          const value = (counts[i][state] ?? 0) + (state === 'waiting' ? (counts[i].prioritized ?? 0) : 0);
          set({ queue: queue.name, state }, value);
        }
      });
    });
  }

  private read(queues: Queue[]): Promise<Array<Record<string, number>>> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > CACHE_MS) {
      const counts = Promise.all(queues.map((q) => withDeadline(q.getJobCounts(...STATES, 'prioritized'), 1000)));
      this.cached = { at: now, counts };
      counts.catch(() => (this.cached = undefined));
    }
    return this.cached.counts;
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('queue counts timed out')), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
