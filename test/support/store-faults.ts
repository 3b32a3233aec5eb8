import { afterAll, afterEach, beforeAll } from '@jest/globals';
import type pg from 'pg';
import { database, resetState, type Running } from './harness.js';
import { TcpProxy } from './tcp-proxy.js';

export interface StoreFaults {
  /** Relays in front of the real Postgres and Redis, restored after every test. */
  pgProxy: TcpProxy;
  redisProxy: TcpProxy;
  /** Apps started by a test; closed (last first) after it. */
  running: Running[];
  /** Direct SQL for assertions (set once the suite has started). */
  readonly db: pg.Pool;
}

/**
 * The set-up of the suites that take Postgres or Redis away under running apps: a clean state,
 * a relay in front of each store, and every app and relay closed afterwards. Call at the top
 * level of a spec file (it registers the Jest hooks).
 */
export function useStoreFaults(): StoreFaults {
  let db: pg.Pool | undefined;
  const faults: StoreFaults = {
    pgProxy: TcpProxy.forUrl(process.env.DATABASE_URL!),
    redisProxy: TcpProxy.forUrl(process.env.REDIS_URL!),
    running: [],
    get db() {
      if (!db) throw new Error('the database pool is opened in beforeAll');
      return db;
    },
  };
  beforeAll(async () => {
    await resetState();
    db = database();
  });
  afterEach(async () => {
    faults.pgProxy.restore();
    faults.redisProxy.restore();
    while (faults.running.length) await faults.running.pop()!.close();
  });
  afterAll(async () => {
    await faults.pgProxy.stop();
    await faults.redisProxy.stop();
    await db?.end();
  });
  return faults;
}
