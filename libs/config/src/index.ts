export { AppConfig } from './app-config.js';
export { ConfigModule } from './config.module.js';
export { configSchema, type Config } from './config.schema.js';
export { loadConfig, ConfigError } from './load-config.js';
export { boundShutdown } from './shutdown.js';
