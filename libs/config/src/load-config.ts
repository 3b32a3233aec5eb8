import { existsSync } from 'node:fs';
import { configSchema, type Config } from './config.schema.js';

/** Raised when the environment is missing or malformed; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses and validates the environment. `.env` and then `.env.development` (written by `npm run
 * dev`) in the working directory are read first (variables already set win), so local development
 * needs no extra tooling. A variable set to the empty string counts as unset: docker compose passes
 * every variable (`NAME: ${NAME:-}`), and `PORT=` must mean the default, not port 0.
 */
export function loadConfig(env: NodeJS.ProcessEnv = readEnvironment()): Config {
  const parsed = configSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const missing = env[name] === undefined || env[name] === '';
      return missing ? `${name} is required` : `${name} ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze(parsed.data);
}

function readEnvironment(): NodeJS.ProcessEnv {
  if (process.env.NODE_ENV !== 'test') {
    for (const file of ['.env', '.env.development']) if (existsSync(file)) process.loadEnvFile(file);
  }
  return process.env;
}
