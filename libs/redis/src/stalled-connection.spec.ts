import { once } from 'node:events';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Redis, type RedisOptions } from 'ioredis';
import { TcpProxy } from '../../../test/support/tcp-proxy.js';
import { redisOptions } from './redis.module.js';
import { parseRedisUrl } from './redis-url.js';

// A real Redis behind a TCP relay that can go silent with the socket open: the connection
// options must get a client out of a stalled connection on their own.
const proxy = TcpProxy.forUrl(process.env.REDIS_URL!);
const clients: Redis[] = [];

afterEach(async () => {
  proxy.restore();
  for (const c of clients.splice(0)) c.disconnect();
  await proxy.stop();
});

async function client(options: RedisOptions): Promise<Redis> {
  const url = await proxy.proxiedUrl(process.env.REDIS_URL!);
  const redis = new Redis({ ...parseRedisUrl(url), ...options });
  redis.on('error', () => undefined);
  clients.push(redis);
  await once(redis, 'ready');
  return redis;
}

async function answersWithin(redis: Redis, ms: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if ((await redis.ping().catch(() => '')) === 'PONG') return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`no answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const fast = { commandTimeout: 300, connectTimeout: 300, socketTimeout: 300 };

describe('a Redis that goes silent with the socket open', () => {
  it('without a socket timeout, the client never recovers (the failure the option exists for)', async () => {
    const redis = await client(redisOptions({ ...fast, socketTimeout: undefined }));
    proxy.silence();
    await expect(redis.ping()).rejects.toThrow(/timed out/);
    proxy.restore();
    await expect(answersWithin(redis, 1500)).rejects.toThrow(/no answer/);
  });

  it('request-path options drop the silent socket and recover once Redis answers', async () => {
    const redis = await client(redisOptions(fast));
    proxy.silence();
    await expect(redis.ping()).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 500));
    proxy.restore();
    expect(await answersWithin(redis, 2000)).toBeLessThan(1500);
  });

  it('a reconnect into a server that never answers the handshake is dropped too', async () => {
    const redis = await client(redisOptions({ ...fast, commandTimeout: undefined }));
    proxy.hang(); // drops the socket: ioredis reconnects into a relay that never answers
    await new Promise((r) => setTimeout(r, 600));
    proxy.restore();
    expect(await answersWithin(redis, 2000)).toBeLessThan(1500);
  });
});
