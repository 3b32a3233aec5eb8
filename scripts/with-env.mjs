#!/usr/bin/env node
// Runs a command with `.env` and `.env.development` loaded (variables already set win), like the apps do.
// Node 20 has no --env-file-if-exists, and Prisma's CLI skips .env when a prisma.config.ts exists.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

for (const file of ['.env', '.env.development']) if (existsSync(file)) process.loadEnvFile(file);
process.env.CHECKPOINT_DISABLE ??= '1';
const [cmd, ...args] = process.argv.slice(2);
// npm scripts have node_modules/.bin on PATH; direct calls may not.
const bin = existsSync(`node_modules/.bin/${cmd}`) ? `node_modules/.bin/${cmd}` : cmd;
const result = spawnSync(bin, args, { stdio: 'inherit', env: process.env });
if (result.error) console.error(result.error.message);
process.exit(result.status ?? 1);
