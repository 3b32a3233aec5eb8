import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { PrismaService } from '#libs/database';
import { REDIS, RedisKeys } from '#libs/redis';
import { withTimeout } from '#libs/queues';

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
  constructor(
    private readonly prisma: PrismaService,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  postgres(): Promise<CheckResult> {
    return this.check(() => this.prisma.$queryRaw`SELECT 1`);
  }

  redisPing(): Promise<CheckResult> {
    return this.check(() => this.redis.ping());
  }

  async workers(): Promise<CheckResult> {
    return this.check(async () => {
      const alive = await this.aliveWorkers();
      if (alive.length === 0) throw new Error('no worker heartbeat in the last 10 s');
      return { count: alive.length };
    });
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
