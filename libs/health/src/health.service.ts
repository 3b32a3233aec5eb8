import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { PrismaService } from '#libs/database';
import { MetricsService } from '#libs/metrics';
import { REDIS, RedisKeys } from '#libs/redis';
import { QueueName, withTimeout } from '#libs/queues';
import { snapshotQueue, type QueueSnapshot } from './queue-health.js';

export interface CheckResult {
  status: 'up' | 'down';
  latencyMs?: number;
  error?: string;
  [detail: string]: unknown;
}

export interface Readiness {
  status: 'ok' | 'error';
  checks: Record<string, CheckResult>;
}

/** A worker counts as alive if it wrote a heartbeat within this window. */
export const HEARTBEAT_TTL_MS = 10_000;
export const HEARTBEAT_EVERY_MS = 2000;

/** Dependency checks, each bounded so readiness answers within 2 s even when a dependency hangs. */
@Injectable()
export class HealthService {
  private readonly logger = new Logger(HealthService.name);
  private lastAlarmLog = 0;

  constructor(
    private readonly prisma: PrismaService,
    @Inject(REDIS) private readonly redis: Redis,
    @InjectQueue(QueueName.AgentTurns) private readonly turns: Queue,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async postgres(): Promise<CheckResult> {
    const result = await this.check(() => this.prisma.$queryRaw`SELECT 1`);
    if (result.status === 'down') this.metrics?.countStoreError('postgres');
    return result;
  }

  async redisPing(): Promise<CheckResult> {
    const result = await this.check(() => this.redis.ping());
    if (result.status === 'down') this.metrics?.countStoreError('redis');
    return result;
  }

  async workers(): Promise<CheckResult> {
    return this.check(async () => {
      const alive = await this.aliveWorkers();
      if (alive.length === 0) throw new Error('no worker heartbeat in the last 10 s');
      return { count: alive.length };
    });
  }

  /**
   * The agent-turn queue: waiting/active/failed counts and live workers. Down (with the alarm
   * as its error) when jobs wait and no worker is alive to take them: callers would hear only
   * fillers and apologies, so this must page someone rather than stay silent.
   */
  async agentQueue(): Promise<CheckResult> {
    let snapshot: QueueSnapshot | undefined;
    const result = await this.check(async () => {
      snapshot = await this.queueSnapshot();
      return snapshot;
    });
    if (!snapshot?.alarm) return result;
    return { ...result, status: 'down', error: snapshot.alarm };
  }

  /** Counts of the agent-turn queue; logs the alarm (at most every 30 s) whenever it is seen. */
  async queueSnapshot(): Promise<QueueSnapshot> {
    const snapshot = await snapshotQueue(this.turns, () => this.aliveWorkers());
    if (snapshot.alarm && Date.now() - this.lastAlarmLog > 30_000) {
      this.lastAlarmLog = Date.now();
      this.logger.error({ queue: QueueName.AgentTurns, ...snapshot }, `queue alarm: ${snapshot.alarm}`);
    }
    return snapshot;
  }

  async aliveWorkers(): Promise<string[]> {
    return this.redis.zrangebyscore(RedisKeys.workerHeartbeats(), Date.now() - HEARTBEAT_TTL_MS, '+inf');
  }

  /** Runs named checks concurrently; status is "ok" only when all are up. */
  async readiness(checks: Record<string, () => Promise<CheckResult>>): Promise<Readiness> {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((n) => checks[n]()));
    const out = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    return { status: results.every((r) => r.status === 'up') ? 'ok' : 'error', checks: out };
  }

  async check(probe: () => Promise<unknown>, ms = 1500): Promise<CheckResult> {
    const started = performance.now();
    try {
      const detail = await withTimeout(probe(), ms, 'check');
      const extra = detail && typeof detail === 'object' && !Array.isArray(detail) ? (detail as Record<string, unknown>) : {};
      return { status: 'up', latencyMs: Math.round(performance.now() - started), ...extra };
    } catch (err) {
      return { status: 'down', error: (err as Error).message.slice(0, 200) };
    }
  }
}
