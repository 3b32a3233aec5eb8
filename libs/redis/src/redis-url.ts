import type { RedisOptions } from 'ioredis';

/** Thrown for a REDIS_URL that names no usable server (the config schema catches most earlier). */
export class RedisUrlError extends Error {
  override name = 'RedisUrlError';
}

/** The connection part of ioredis options: one server, or a Sentinel-managed master. */
export type RedisConnection = Pick<
  RedisOptions,
  'host' | 'port' | 'username' | 'password' | 'db' | 'tls' | 'sentinels' | 'name' | 'sentinelUsername' | 'sentinelPassword' | 'enableTLSForSentinelMode' | 'failoverDetector'
>;

const SENTINEL_PROTOCOLS = new Set(['redis+sentinel:', 'rediss+sentinel:']);

/** True when the URL names a Sentinel-managed master (`redis+sentinel://` or `rediss+sentinel://`). */
export function isSentinelUrl(url: string): boolean {
  return /^rediss?\+sentinel:\/\//i.test(url);
}

/**
 * Turns REDIS_URL into ioredis connection options. Two forms:
 *
 * - `redis://[user:password@]host[:6379][/db]` and `rediss://…` (TLS): one server.
 * - `redis+sentinel://[user:password@]host1:26379,host2:26379,host3/mymaster[/db]` (or
 *   `rediss+sentinel://` for TLS to the master): ask the listed sentinels which server is the
 *   master named `mymaster`, and ask them again after a failover. The credentials are the
 *   master's; `?sentinelPassword=…&sentinelUsername=…` authenticate to the sentinels when they
 *   require it. A sentinel without a port is on 26379.
 *
 * `new URL` cannot parse a comma-separated host list, so the authority is split by hand.
 */
export function parseRedisUrl(url: string): RedisConnection {
  if (!isSentinelUrl(url)) {
    const u = new URL(url);
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new RedisUrlError(`REDIS_URL must be redis://, rediss:// or redis+sentinel:// (got ${u.protocol})`);
    return {
      host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
      port: Number(u.port || 6379),
      username: u.username ? decodeURIComponent(u.username) : undefined,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      db: dbOf(u.pathname.slice(1)),
      tls: u.protocol === 'rediss:' ? {} : undefined,
    };
  }
  const match = /^(rediss?)\+sentinel:\/\/(?:([^@/]*)@)?([^/?#]+)\/([^/?#]+)(?:\/([^/?#]*))?\/?(?:\?([^#]*))?$/i.exec(url);
  if (!match) throw new RedisUrlError('REDIS_URL: a Sentinel URL looks like redis+sentinel://host1:26379,host2:26379/mymaster/0');
  const [, scheme, auth, hosts, name, db, query] = match;
  const [user, pass] = auth ? splitOnce(auth, ':') : [undefined, undefined];
  const params = new URLSearchParams(query ?? '');
  const sentinels = hosts.split(',').filter(Boolean).map((hostPort) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort);
    if (!m) throw new RedisUrlError(`REDIS_URL: bad sentinel address "${hostPort}"`);
    return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2] ?? 26379) };
  });
  const tls = scheme.toLowerCase() === 'rediss';
  return {
    sentinels,
    name: decodeURIComponent(name),
    username: user ? decodeURIComponent(user) : undefined,
    password: pass ? decodeURIComponent(pass) : undefined,
    db: dbOf(db ?? ''),
    sentinelUsername: params.get('sentinelUsername') ?? undefined,
    sentinelPassword: params.get('sentinelPassword') ?? undefined,
    tls: tls ? {} : undefined,
    enableTLSForSentinelMode: tls || undefined,
    // Listen for the sentinels' +switch-master and reconnect at once, instead of only noticing
    // the failover when a command fails on the demoted master.
    failoverDetector: true,
  };
}

function dbOf(text: string): number {
  if (text === '') return 0;
  if (!/^\d{1,2}$/.test(text)) throw new RedisUrlError(`REDIS_URL: database "${text}" must be a number`);
  return Number(text);
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, undefined] : [text.slice(0, i), text.slice(i + 1)];
}

/** The URL with its password masked, for logs and error messages. */
export function describeRedisUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
