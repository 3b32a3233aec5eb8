export { REDIS, REDIS_STALL_MS, RedisModule, redisOptions, bullConnectionOptions } from './redis.module.js';
export { RedisKeys } from './redis-keys.js';
export { parseRedisUrl, isSentinelUrl, describeRedisUrl, RedisUrlError, type RedisConnection } from './redis-url.js';
