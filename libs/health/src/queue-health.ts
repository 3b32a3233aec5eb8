import type { Queue } from 'bullmq';

/** Counts of the agent-turn queue and of the workers that can drain it. */
export interface QueueSnapshot {
  waiting: number;
  active: number;
  failed: number;
  delayed: number;
  /**
   * Worker processes with a heartbeat in the last HEARTBEAT_TTL_MS. Not BullMQ's
   * getWorkersCount(): CLIENT LIST spans every database of the server, so workers of another
   * deployment sharing the Redis server (another db) would hide an empty pool.
   */
  workers: number;
  /** Why this queue needs a person, if it does. */
  alarm?: string;
}

/** Reads the queue's counts and names the alarm: jobs are waiting and nothing will take them. */
export async function snapshotQueue(queue: Queue, aliveWorkers: () => Promise<string[]>): Promise<QueueSnapshot> {
  const [counts, workers] = await Promise.all([
    queue.getJobCounts('waiting', 'active', 'failed', 'delayed', 'prioritized'),
    aliveWorkers(),
  ]);
  const snapshot: QueueSnapshot = {
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    failed: counts.failed ?? 0,
    delayed: counts.delayed ?? 0,
    workers: workers.length,
  };
  if (snapshot.waiting > 0 && snapshot.workers === 0) {
    snapshot.alarm = `${snapshot.waiting} waiting job(s) and no live worker`;
  }
  return snapshot;
}
