import { describe, expect, it } from '@jest/globals';
import { describeRedisUrl, isSentinelUrl, parseRedisUrl } from './redis-url.js';

describe('REDIS_URL', () => {
  it('reads a single server, with credentials, db and TLS', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/2')).toMatchObject({ host: '127.0.0.1', port: 6380, db: 2, tls: undefined });
    expect(parseRedisUrl('rediss://default:s%40cret@cache.example.com')).toMatchObject({
      host: 'cache.example.com', port: 6379, username: 'default', password: 's@cret', db: 0, tls: {},
    });
  });

  it('reads a Sentinel-managed master: sentinel list, master name, db, credentials', () => {
    const c = parseRedisUrl('redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2:26380,sentinel-3/mymaster/1?sentinelPassword=sp');
    expect(isSentinelUrl('redis+sentinel://h/m')).toBe(true);
    expect(c.sentinels).toEqual([
      { host: '10.0.0.1', port: 26379 },
      { host: '10.0.0.2', port: 26380 },
      { host: 'sentinel-3', port: 26379 },
    ]);
    expect(c).toMatchObject({ name: 'mymaster', db: 1, password: 'pw', sentinelPassword: 'sp', tls: undefined });
    expect(c.host).toBeUndefined();
    expect(parseRedisUrl('rediss+sentinel://h1,h2/m')).toMatchObject({ name: 'm', db: 0, tls: {}, enableTLSForSentinelMode: true });
  });

  it('rejects a Sentinel URL without a master name or with a bad db', () => {
    expect(() => parseRedisUrl('redis+sentinel://h1:26379')).toThrow(/mymaster/);
    expect(() => parseRedisUrl('redis+sentinel://h1/m/x')).toThrow(/database/);
    expect(() => parseRedisUrl('http://h')).toThrow(/REDIS_URL/);
  });

  it('masks passwords for logs', () => {
    expect(describeRedisUrl('redis+sentinel://u:secret@h1,h2/m')).toBe('redis+sentinel://u:***@h1,h2/m');
  });
});
