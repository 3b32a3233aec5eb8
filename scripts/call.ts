/**
 * npm run call -- [--mode gather|stream|relay] [options] "utterance" …   (--help for all options)
 *
 * Plays Twilio against a running server, signed with the configured auth token exactly as
 * Twilio signs, prints the conversation with labelled latencies, then the transcript stored in
 * Postgres and how the call ended. Exits non-zero when the call did not end as expected.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import pg from 'pg';
import { loadConfig, type Config } from '#libs/config';
import type { CallerInput, CallResult } from './call/options.js';
import { formatTurnTimings, type TurnTimings } from './call/turn-timings.js';

const MODES = ['gather', 'stream', 'relay'] as const;
type Mode = (typeof MODES)[number];
const END_STATUSES = ['busy', 'no-answer', 'failed'] as const;

const options = {
  mode: { type: 'string', short: 'm', default: 'gather' },
  url: { type: 'string' },
  from: { type: 'string', default: '+15005550006' },
  to: { type: 'string', default: '+15005550001' },
  dtmf: { type: 'string', multiple: true },
  confidence: { type: 'string' },
  silence: { type: 'boolean', default: false },
  status: { type: 'string' },
  'barge-in': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies ParseArgsConfig['options'];

const COMMON = `Options (every mode):
  --mode, -m gather|stream|relay   how the call talks (default gather)
  --url URL                 where the api listens (default http://127.0.0.1:$PORT)
  --from +1…, --to +1…      caller and called numbers
  --dtmf DIGITS             press keys before speaking (repeatable: --dtmf 1 --dtmf 0)
  --silence                 the caller never says anything
  --status busy|no-answer|failed   the call never connects: only that status callback is sent
  --help, -h                this help (add --mode to see one mode's)
Each argument is one thing the caller says, in order; "" is a silent turn.
Reads .env like the apps: PORT, PUBLIC_BASE_URL, TWILIO_* (signatures and the REST stand-in),
DATABASE_URL (the stored transcript), ESPEAK_BIN, SOX_BIN, POCKETSPHINX_* (stream mode).
Exit code: 0 when the call ended as expected (stored status completed with a disposition, or the
--status asked for), 1 otherwise, 2 for bad options.`;

const HELP: Record<Mode | 'all', string> = {
  all: `npm run call -- [--mode gather|stream|relay] [options] "utterance" …

Plays Twilio's side of a call against the running server.
  gather  <Gather input="speech">: each utterance is a SpeechResult       (npm run call -- --mode gather --help)
  stream  Media Streams: utterances are spoken as real audio (espeak-ng)  (npm run call -- --mode stream --help)
  relay   ConversationRelay: utterances are sent as text prompts          (npm run call -- --mode relay --help)

${COMMON}`,
  gather: `npm run call -- --mode gather [options] "utterance" …

Follows the TwiML (Say, Gather, Redirect, Pause, Dial, Hangup); each utterance answers a Gather as
its SpeechResult. Prints the caller's wait for each answer (webhook round trips, with redirects).
  --confidence 0.4          Confidence sent with each SpeechResult (default 0.93; below
                            SPEECH_CONFIDENCE_THRESHOLD the server treats it as not understood)

${COMMON}`,
  stream: `npm run call -- --mode stream [--barge-in] [options] "utterance" …

Opens the signed media socket, speaks each utterance as 8 kHz μ-law audio at real time and
transcribes the agent's audio. For each utterance: what was said, what the server heard (the
stored caller turn) and the latency from the end of speech to the agent's first audio.
  --barge-in                talk over each answer 0.8 s into it (shows the server's clear)

${COMMON}`,
  relay: `npm run call -- --mode relay [--barge-in] [options] "utterance" …

Opens the signed ConversationRelay socket and sends each utterance as a prompt; prints the
caller's wait for the first words of each answer and follows the <Connect action> TwiML.
  --barge-in                interrupt each answer after its first words

${COMMON}`,
};

const print = (line: string) => process.stdout.write(`${line}\n`);
const fail = (message: string, mode: Mode | 'all' = 'all'): never => {
  process.stderr.write(`${message}\n\n${HELP[mode]}\n`);
  process.exit(2);
};

function parse() {
  try {
    return parseArgs({ allowPositionals: true, options });
  } catch (err) {
    return fail(`npm run call: ${(err as Error).message.split('\n')[0]}`);
  }
}

const { values, positionals } = parse();
const mode = values.mode as Mode;
if (!MODES.includes(mode)) fail(`unknown --mode ${values.mode}: use gather, stream or relay`);
if (values.help) {
  print(HELP[process.argv.some((a) => a === '--mode' || a === '-m' || a.startsWith('--mode=')) ? mode : 'all']);
  process.exit(0);
}
const confidence = values.confidence === undefined ? undefined : Number(values.confidence);
if (confidence !== undefined && !(confidence >= 0 && confidence <= 1)) fail('--confidence must be a number from 0 to 1', mode);
if (confidence !== undefined && mode !== 'gather') fail('--confidence applies to --mode gather only (the other modes carry no confidence)', mode);
const status = values.status as (typeof END_STATUSES)[number] | undefined;
if (status !== undefined && !END_STATUSES.includes(status)) fail('--status must be busy, no-answer or failed', mode);
for (const digits of values.dtmf ?? []) if (!/^[0-9*#]{1,10}$/.test(digits)) fail(`--dtmf ${digits}: digits 0-9, * and # only`, mode);

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  process.stderr.write(`${(err as Error).message}\nThe simulator reads the same .env as the apps: run \`npm run dev\` once to create it.\n`);
  process.exit(2);
}

const inputs: CallerInput[] = [
  ...(values.dtmf ?? []).map((digits): CallerInput => ({ kind: 'dtmf', digits })),
  ...(values.silence ? Array.from({ length: config.MAX_MISSED_TURNS + 1 }, (): CallerInput => ({ kind: 'silence' })) : []),
  ...positionals.map((text): CallerInput => (text.trim() ? { kind: 'speech', text } : { kind: 'silence' })),
];
const common = {
  apiUrl: values.url ?? `http://127.0.0.1:${config.PORT}`,
  publicBaseUrl: config.PUBLIC_BASE_URL,
  authToken: config.TWILIO_AUTH_TOKEN,
  accountSid: config.TWILIO_ACCOUNT_SID,
  twilioApiUrl: config.TWILIO_API_BASE_URL,
  utterances: positionals,
  inputs,
  from: values.from!,
  to: values.to!,
  status,
  print,
};

const db = new pg.Pool({ connectionString: config.DATABASE_URL, max: 1 });

async function main(): Promise<number> {
  let result: CallResult;
  if (mode === 'gather') {
    const { runGatherCall } = await import('./call/gather.js');
    result = await runGatherCall({ ...common, confidence });
  } else if (mode === 'stream') {
    const { runStreamCall } = await import('./call/stream.js');
    result = await runStreamCall({
      ...common,
      bargeIn: values['barge-in']!,
      agentsFile: config.AGENTS_FILE,
      tools: { espeak: config.ESPEAK_BIN, sox: config.SOX_BIN, rate: config.ESPEAK_RATE, pocketsphinx: config.POCKETSPHINX_BIN, dictionary: config.POCKETSPHINX_DICT },
      storedCallerTurns: async (callSid) =>
        (await db.query<{ text: string }>(`SELECT text FROM turns WHERE "callSid" = $1 AND speaker = 'caller' ORDER BY seq`, [callSid])).rows.map((r) => r.text),
    });
  } else {
    const { runRelayCall } = await import('./call/relay.js');
    result = await runRelayCall({ ...common, bargeIn: values['barge-in']! });
  }
  if (result.outcome !== 'not-answered') await printTranscript(result.callSid, mode);
  return checkEnd(result, status ?? 'completed');
}

interface StoredTurn {
  seq: number;
  speaker: string;
  text: string;
  action: string | null;
  latencyMs: number | null;
  interrupted: boolean;
  data: { planned?: string } | null;
  timings: TurnTimings | null;
}

/** Waits until the transcript stops growing (writes go through the worker), then prints it. */
async function printTranscript(callSid: string, mode: Mode): Promise<void> {
  let rows: StoredTurn[] = [];
  for (let i = 0, stable = 0; i < 50 && stable < 3; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const next = (await db.query<StoredTurn>('SELECT seq, speaker, text, action, "latencyMs", interrupted, data, timings FROM turns WHERE "callSid" = $1 ORDER BY seq', [callSid])).rows;
    stable = next.length === rows.length && next.length > 0 ? stable + 1 : 0;
    rows = next;
  }
  print(`\n— stored transcript of ${callSid} (${rows.length} turns; "server" = from the caller's words to the agent's answer) —`);
  for (const t of rows) {
    const extra = [t.action, t.latencyMs !== null ? `server ${t.latencyMs} ms` : null].filter(Boolean).join(', ');
    const text = t.interrupted
      ? `${t.text || '(nothing)'} ⟂ interrupted${t.data?.planned ? ` (planned: "${t.data.planned}")` : ''}`
      : t.text;
    print(`${String(t.seq).padStart(3)} ${t.speaker.padEnd(6)} ${text}${extra ? `  [${extra}]` : ''}`);
    for (const line of formatTurnTimings(t.timings, mode)) print(`           ${line}`);
  }
}

/** The stored call must reach the expected final status (and, once answered, a disposition). */
async function checkEnd(result: CallResult, expected: string): Promise<number> {
  let row: { status: string; durationSec: number | null; disposition: string | null; endedAt: Date | null } | undefined;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
    row = (await db.query('SELECT status, "durationSec", disposition, "endedAt" FROM calls WHERE "callSid" = $1', [result.callSid])).rows[0];
    if (row && row.status === expected && row.endedAt && (expected !== 'completed' || row.disposition)) break;
  }
  const how = result.outcome === 'transfer' ? `transferred to ${result.transferTo}` : result.outcome.replace(/-/g, ' ');
  if (!row) {
    print(`\n✗ the call was not stored (${how})`);
    return 1;
  }
  const summary = `status ${row.status}, ${row.durationSec ?? 0} s, disposition ${row.disposition ?? '(none)'}, ${how}`;
  if (row.status !== expected || !row.endedAt || (expected === 'completed' && !row.disposition)) {
    print(`\n✗ the call did not end as expected (wanted ${expected}${expected === 'completed' ? ' with a disposition' : ''}): ${summary}`);
    return 1;
  }
  print(`\n✓ call ended: ${summary}`);
  return 0;
}

main()
  .then((code) => (process.exitCode = code))
  .catch((err: unknown) => {
    process.stderr.write(`call failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => db.end());
