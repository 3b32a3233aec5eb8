export { LoggingModule } from './logging.module.js';
export { createLogger, loggerOptions } from './logger.js';
export { maskPhoneNumbers, redact } from './redact.js';
