export { LoggingModule } from './logging.module.js';
export { AppLogger, RequestLogContext } from './app-logger.js';
export { createLogger, loggerOptions } from './logger.js';
export { maskPhoneNumbers, redact } from './redact.js';
