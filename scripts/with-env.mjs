#!/usr/bin/env node
// Runs a command with `.env` loaded (variables already set win), like the apps do.
// Node 20 has no --env-file-if-exists, and Prisma's CLI skips .env when a prisma.config.ts exists.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (existsSync('.env')) process.loadEnvFile('.env');
process.env.CHECKPOINT_DISABLE ??= '1';
// Scripts run TypeScript sources directly: resolve #libs/* to libs/*/src.
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --conditions=development`.trim();
const [cmd, ...args] = process.argv.slice(2);
const result = spawnSync(cmd, args, { stdio: 'inherit', shell: false, env: process.env, cwd: process.cwd(),
  ...(existsSync(`node_modules/.bin/${cmd}`) ? { } : {}) });
if (result.error) {
  // Fall back to the local binary folder (npm scripts have it on PATH; direct calls may not).
  const local = spawnSync(`node_modules/.bin/${cmd}`, args, { stdio: 'inherit', env: process.env });
  process.exit(local.status ?? 1);
}
process.exit(result.status ?? 1);
