// Environment of the test run. scripts/test.mjs starts the services and exports their URLs.
process.env.NODE_ENV = 'test';
process.env.LOG_LEVEL ??= 'silent';
process.env.PUBLIC_BASE_URL = 'https://voice.example.test';
process.env.TWILIO_ACCOUNT_SID = 'AC' + '0123456789abcdef'.repeat(2);
process.env.TWILIO_AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
process.env.ADMIN_API_KEY = 'test-bootstrap-admin-key-0123456789';
if (!process.env.TEST_DATABASE_URL || !process.env.TEST_REDIS_URL) {
  throw new Error('TEST_DATABASE_URL and TEST_REDIS_URL are not set: run the tests with `npm test` (it starts Postgres and Redis)');
}
process.env.DATABASE_URL = process.env.TEST_DATABASE_URL;
process.env.REDIS_URL = process.env.TEST_REDIS_URL;
