#!/usr/bin/env node
// npm run cli: the operator CLI. In a checkout it runs the TypeScript source with tsx (always
// current); in the runtime image, which has neither tsx nor the sources, it runs the build
// (dist/scripts/cli.js), e.g. `docker compose run --rm api npm run cli -- apikey list`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const args = process.argv.slice(2);
const fromSource = existsSync('scripts/cli.ts') && existsSync('node_modules/.bin/tsx');
const command = fromSource
  ? ['scripts/with-env.mjs', 'tsx', '--conditions=development', 'scripts/cli.ts', ...args]
  : ['scripts/with-env.mjs', 'node', 'dist/scripts/cli.js', ...args];
const result = spawnSync('node', command, { stdio: 'inherit' });
process.exit(result.status ?? 1);
