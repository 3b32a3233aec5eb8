import { existsSync } from 'node:fs';
import { configSchema, type Config } from './config.schema.js';

/** Raised when the environment is missing or malformed; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses and validates the environment. A `.env` file in the working directory is read first
 * (variables already set win), so local development needs no extra tooling.
 */
export function loadConfig(env: NodeJS.ProcessEnv = readEnvironment()): Config {
  const parsed = configSchema.safeParse(env);
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
  if (process.env.NODE_ENV !== 'test' && existsSync('.env')) process.loadEnvFile('.env');
  return process.env;
}
