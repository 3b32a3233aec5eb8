/**
 * npm run call -- [--mode gather|stream|relay] [--url http://127.0.0.1:3000] [--barge-in] "utterance" …
 *
 * Plays Twilio against a running server, signed with the configured auth token exactly as
 * Twilio signs, prints the conversation with each turn's latency, then the stored transcript.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '#libs/config';
import { runGatherCall } from './call/gather.js';
import { formatTurnTimings, type TurnTimings } from './call/turn-timings.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    mode: { type: 'string', default: 'gather' },
    url: { type: 'string' },
    from: { type: 'string', default: '+15005550006' },
    to: { type: 'string', default: '+15005550001' },
    'barge-in': { type: 'boolean', default: false },
  },
});

const config = loadConfig();
const apiUrl = values.url ?? `http://127.0.0.1:${config.PORT}`;
const print = (line: string) => process.stdout.write(`${line}\n`);
const common = {
  apiUrl,
  publicBaseUrl: config.PUBLIC_BASE_URL,
  authToken: config.TWILIO_AUTH_TOKEN,
  accountSid: config.TWILIO_ACCOUNT_SID,
  utterances: positionals,
  print,
};

async function main(): Promise<void> {
  let callSid: string;
  if (values.mode === 'gather') {
    ({ callSid } = await runGatherCall({ ...common, from: values.from!, to: values.to! }));
  } else if (values.mode === 'stream' || values.mode === 'relay') {
    const module = values.mode === 'stream' ? await import('./call/stream.js') : await import('./call/relay.js');
    const run = (module as Record<string, (o: unknown) => Promise<{ callSid: string }>>)[values.mode === 'stream' ? 'runStreamCall' : 'runRelayCall'];
    ({ callSid } = await run({ ...common, bargeIn: values['barge-in'] }));
  } else {
    throw new Error(`unknown --mode ${values.mode}: use gather, stream or relay`);
  }
  await printTranscript(callSid, values.mode);
}

/** Waits until the transcript stops growing (writes go through the worker), then prints it. */
async function printTranscript(callSid: string, mode: string): Promise<void> {
  const db = new pg.Pool({ connectionString: config.DATABASE_URL, max: 1 });
  try {
    let rows: { seq: number; speaker: string; text: string; action: string | null; latencyMs: number | null; timings: TurnTimings | null }[] = [];
    for (let i = 0, stable = 0; i < 50 && stable < 3; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const next = (await db.query('SELECT seq, speaker, text, action, "latencyMs", timings FROM turns WHERE "callSid" = $1 ORDER BY seq', [callSid])).rows;
      stable = next.length === rows.length && next.length > 0 ? stable + 1 : 0;
      rows = next;
    }
    print(`\n— stored transcript of ${callSid} (${rows.length} turns) —`);
    for (const t of rows) {
      const extra = [t.action, t.latencyMs !== null ? `${t.latencyMs} ms` : null].filter(Boolean).join(', ');
      print(`${String(t.seq).padStart(3)} ${t.speaker.padEnd(6)} ${t.text}${extra ? `  [${extra}]` : ''}`);
      for (const line of formatTurnTimings(t.timings, mode)) print(`           ${line}`);
    }
  } finally {
    await db.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`call failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
