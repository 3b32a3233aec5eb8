export { PII_TYPES, luhnValid, parsePiiTypes, redactPii, type PiiType, type Redaction } from './pii.js';
export { PiiRedactor, SECURE_DIGITS, type RedactableTurn } from './pii-redactor.js';
