/**
 * Prisma CLI configuration: migrations run through Prisma 6.19's bundled Wasm schema
 * engine over a `pg` driver adapter, so `migrate deploy` / `migrate diff` never download
 * a native engine (the host it comes from is unreachable on our machines and in CI).
 *
 * Three defects of @prisma/adapter-pg 6.19 are worked around here:
 *  1. the schema engine reads catalog columns of type `name` (19) and `"char"` (18) that the
 *     adapter cannot decode (prisma/orm#27403): they are re-labelled as text / text[];
 *  2. pg lets `connectionString` override `database`, which would point the shadow database
 *     at the main one: the adapter gets discrete host/port/user/database fields;
 *  3. the adapter drops the shadow database before closing its pool: close first, then drop.
 */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

const TEXT = 25;
const TEXT_ARRAY = 1009;
const RELABEL: Record<number, number> = { 18: TEXT, 19: TEXT, 1002: TEXT_ARRAY, 1003: TEXT_ARRAY };

function relabel<T>(result: T): T {
  const fields = (result as { fields?: { dataTypeID: number }[] } | undefined)?.fields;
  if (Array.isArray(fields)) {
    for (const field of fields) field.dataTypeID = RELABEL[field.dataTypeID] ?? field.dataTypeID;
  }
  return result;
}

class CatalogSafeClient extends pg.Client {
  // pg's query() has many overloads; both the callback and the promise form are covered.
  query(...args: any[]): any {
    const cb = args.findIndex((a) => typeof a === 'function');
    if (cb >= 0) {
      const original = args[cb];
      args[cb] = (err: unknown, res: unknown) => original(err, err ? res : relabel(res));
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    const out = (super.query as (...a: unknown[]) => any)(...args);
    return out && typeof out.then === 'function' ? out.then(relabel) : out;
  }
}

function poolConfig(url: string, database?: string): pg.PoolConfig {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password) || undefined,
    database: database ?? decodeURIComponent(u.pathname.slice(1)),
    Client: CatalogSafeClient as unknown as typeof pg.Client,
    // Without this the CLI lingers for pg's idle timeout after it has finished.
    allowExitOnIdle: true,
  };
}

function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required to run Prisma migrations');
  return url;
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  async adapter() {
    const url = databaseUrl();
    const factory = new PrismaPg(poolConfig(url));
    (factory as any).connectToShadowDb = async () => {
      const main = await factory.connect();
      const name = `prisma_shadow_${randomUUID().replace(/-/g, '')}`;
      await main.executeScript(`CREATE DATABASE "${name}"`);
      const shadow = await new PrismaPg(poolConfig(url, name)).connect();
      const dispose = shadow.dispose.bind(shadow);
      shadow.dispose = async () => {
        await dispose();
        await main.executeScript(`DROP DATABASE IF EXISTS "${name}"`);
        await main.dispose();
      };
      return shadow;
    };
    return factory;
  },
});
