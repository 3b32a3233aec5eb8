import { jest } from '@jest/globals';

/*
 * The suites run real processes (Postgres, Redis, the apps, speech tools, browsers) on a small
 * shared machine, and a handful of assertions are about timing (readiness recovering within 5 s,
 * a queue position at the moment of an abort). A failing test is run again, at most twice, with
 * its first errors printed ("retrying" in the log): a real regression fails all three times, a
 * scheduler hiccup does not fail the run. Flakes stay visible in the output to be fixed.
 */
jest.retryTimes(2, { logErrorsBeforeRetry: true });
