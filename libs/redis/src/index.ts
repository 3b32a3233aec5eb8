export { REDIS, RedisModule, redisOptions, bullConnectionOptions } from './redis.module.js';
export { RedisKeys } from './redis-keys.js';
