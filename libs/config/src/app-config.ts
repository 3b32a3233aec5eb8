import type { Config } from './config.schema.js';

/**
 * Injection token and type of the validated configuration. Inject `AppConfig` anywhere;
 * nothing else in the codebase reads `process.env`.
 */
export abstract class AppConfig {}
// Declaration merging gives the abstract class the shape of the parsed config.
export interface AppConfig extends Config {}
