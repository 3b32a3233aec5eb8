/**
 * npm run bench:admin:seed — fills a separate database (default switchboard_bench) with
 * 100,000 calls and 1,000,000 turns for the admin API benchmark. Never a shared database:
 * the target is created, migrated and TRUNCATEd by this script.
 *
 * Rows are generated inside Postgres (INSERT … SELECT generate_series), with the GIN index
 * rebuilt once after the load instead of being updated a million times: about a minute.
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';

export const BENCH_CALLS = Number(process.env.BENCH_CALLS ?? 100_000);
export const TURNS_PER_CALL = 10;

/** The bench database URL: BENCH_DATABASE_URL, or DATABASE_URL's server with database switchboard_bench. */
export function benchDatabaseUrl(): string {
  const url = new URL(process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgresql://switchboard:switchboard@127.0.0.1:54329/switchboard');
  if (!process.env.BENCH_DATABASE_URL) url.pathname = '/switchboard_bench';
  if (!/bench/.test(url.pathname)) throw new Error(`refusing to seed ${url.pathname}: the bench database name must contain "bench"`);
  return url.toString();
}

// Phrases callers and agents say; "refund" is in a few percent of turns, "bill"/"billing" in many,
// and every turn also gets two words of a 300-word vocabulary (each in about 0.7% of turns).
const CALLER = [
  'I need help with my bill', 'Why is my bill so high this month', 'I want a refund for a double charge',
  'What are your opening hours', 'Can I speak to a person please', 'I moved and need to change my address',
  'My internet has been down since yesterday', 'I would like to cancel my subscription', 'Is there an outage in my area',
  'I never received my order', 'Can you reset my password', 'I was charged twice on my card', 'How do I update my payment method',
  'The technician did not show up', 'I want to upgrade my plan', 'Where is my package', 'yes', 'no thanks', 'that is all, goodbye',
  'I have a question about billing',
];
const AGENT = [
  'Thanks for calling. How can I help you today?', 'I can help with billing questions.', 'Let me look that up for you.',
  'Our opening hours are Monday to Friday, nine to five.', 'I will connect you to a member of our team.',
  'I have started a refund; it takes five business days.', 'Is there anything else I can help with?',
  'Sorry, I did not catch that. Could you say it again?', 'Your order is on its way.', 'I have updated your address.',
  'Thank you for calling. Goodbye!', 'Let me transfer you to technical support.',
];
const VOCAB = Array.from({ length: 300 }, (_, i) => `w${(i * 7919).toString(36)}`);

function sqlArray(items: string[]): string {
  return `ARRAY[${items.map((s) => `'${s.replace(/'/g, "''")}'`).join(',')}]`;
}

async function ensureDatabase(url: string): Promise<void> {
  const admin = new URL(url);
  const name = admin.pathname.slice(1);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
  execFileSync('node_modules/.bin/prisma', ['migrate', 'deploy'], { stdio: 'ignore', env: { ...process.env, DATABASE_URL: url, CHECKPOINT_DISABLE: '1' } });
}

async function seed(url: string): Promise<void> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const step = async (label: string, sql: string) => {
    const t = performance.now();
    await db.query(sql);
    process.stdout.write(`  ${label}: ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  };
  try {
    await db.query('SET synchronous_commit = off');
    await step('truncate', 'TRUNCATE calls, turns, call_events, api_keys RESTART IDENTITY CASCADE');
    await step('drop GIN index', 'DROP INDEX IF EXISTS "turns_textSearch_idx"');
    // Calls over the last 90 days, newest at now(); 5,000 distinct callers.
    await step(`${BENCH_CALLS} calls`, `
      INSERT INTO calls (id, "callSid", direction, "fromNumber", "toNumber", mode, status, "startedAt", "answeredAt", "endedAt", "durationSec", disposition, intent, summary, "updatedAt")
      SELECT gen_random_uuid(), 'CA' || md5('bench' || g), (CASE WHEN g % 5 = 0 THEN 'outbound' ELSE 'inbound' END)::"CallDirection",
        '+1555' || lpad((g % 5000)::text, 7, '0'), '+1555999' || lpad((g % 7)::text, 4, '0'),
        (ARRAY['gather','stream','relay'])[1 + g % 3]::"CallMode",
        (ARRAY['completed','completed','completed','completed','completed','completed','busy','no-answer','failed','abandoned'])[1 + g % 10],
        s, s + interval '2 seconds', s + d * interval '1 second', d,
        (ARRAY['resolved','resolved','transferred','unresolved','abandoned'])[1 + g % 5], 'billing', 'Caller said something.', now()
      FROM generate_series(1, ${BENCH_CALLS}) g,
        LATERAL (SELECT now() - (${BENCH_CALLS} - g) * (interval '90 days' / ${BENCH_CALLS}) AS s, 20 + (g * 37) % 600 AS d) x`);
    await step(`${BENCH_CALLS * TURNS_PER_CALL} turns`, `
      INSERT INTO turns ("callSid", seq, speaker, text, "startedAt", "latencyMs", action)
      SELECT c."callSid", t, (CASE WHEN t % 2 = 1 THEN 'agent' ELSE 'caller' END)::"Speaker",
        (CASE WHEN t % 2 = 1 THEN (${sqlArray(AGENT)})[1 + floor(random() * ${AGENT.length})::int]
              ELSE (${sqlArray(CALLER)})[1 + floor(random() * ${CALLER.length})::int] END)
          || ' ' || (${sqlArray(VOCAB)})[1 + floor(random() * ${VOCAB.length})::int]
          || ' ' || (${sqlArray(VOCAB)})[1 + floor(random() * ${VOCAB.length})::int],
        c."startedAt" + t * interval '4 seconds',
        CASE WHEN t % 2 = 1 AND t > 1 THEN 300 + floor(random() * 1500)::int END,
        CASE WHEN t % 2 = 1 THEN 'say' END
      FROM calls c, generate_series(1, ${TURNS_PER_CALL}) t`);
    await step('GIN index', 'CREATE INDEX "turns_textSearch_idx" ON turns USING GIN ("textSearch")');
    await step('vacuum analyze calls', 'VACUUM ANALYZE calls');
    await step('vacuum analyze turns', 'VACUUM ANALYZE turns');
  } finally {
    await db.end();
  }
}

/** Words of the seeded vocabulary, for searches of a known selectivity. */
export const RARE_WORD = VOCAB[42];

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = benchDatabaseUrl();
  process.stdout.write(`seeding ${new URL(url).pathname.slice(1)}\n`);
  const started = performance.now();
  await ensureDatabase(url);
  await seed(url);
  process.stdout.write(`done in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}
