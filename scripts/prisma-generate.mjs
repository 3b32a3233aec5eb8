#!/usr/bin/env node
// `prisma generate` offline. The schema's `url = env("DATABASE_URL")` must resolve even though
// generating never connects, and a missing variable is misreported by Prisma 6.19 as a failed
// download of the query engine: give it a placeholder when none is set.
import { spawnSync } from 'node:child_process';

const env = {
  ...process.env,
  CHECKPOINT_DISABLE: '1',
  DATABASE_URL: process.env.DATABASE_URL || 'postgresql://placeholder@127.0.0.1:5432/placeholder',
};
const result = spawnSync('node_modules/.bin/prisma', ['generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
