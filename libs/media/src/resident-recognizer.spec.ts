import { afterEach, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EspeakSynthesizer } from './espeak-synthesizer.js';
import { ResidentPocketsphinxRecognizer, trimSilence, type ResidentPocketsphinxOptions } from './resident-recognizer.js';
import type { SpeechGrammar } from './speech.types.js';

const DICT = '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict';
const grammar: SpeechGrammar = { id: 't', keywords: ['billing', 'support', 'sales', 'goodbye'], leads: ['i need help with', 'i want'], phrases: [] };
const context = { language: 'en-US', grammar };
const live = () => new AbortController().signal;
const tts = new EspeakSynthesizer({ espeak: 'espeak-ng', sox: 'sox', rate: 150, timeoutMs: 10_000 });
const say = (text: string) => tts.synthesize(text, { language: 'en-US' }, live());

/** Is a process with this id still running? */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A stand-in decoder that never answers (a stuck process), or dies at once. */
function fakeDecoder(body: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'fake-ps-')), 'decoder.sh');
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const recognizers: ResidentPocketsphinxRecognizer[] = [];
function recognizer(options: Partial<ResidentPocketsphinxOptions> = {}): ResidentPocketsphinxRecognizer {
  const r = new ResidentPocketsphinxRecognizer({ binary: 'pocketsphinx_batch', dictionary: DICT, poolSize: 1, maxQueue: 8, timeoutMs: 20_000, ...options });
  recognizers.push(r);
  return r;
}

afterEach(async () => {
  await Promise.all(recognizers.splice(0).map((r) => r.dispose()));
});

describe('ResidentPocketsphinxRecognizer (real pocketsphinx_batch)', () => {
  it('lets committed utterances overtake speculative ones waiting in the queue', async () => {
    // A stand-in decoder speaking the batch protocol slowly (0.4 s an utterance), so the queue can be watched.
    const slow = fakeDecoder([
      'while [ $# -gt 0 ]; do case "$1" in -ctl) ctl="$2";; -hyp) hyp="$2";; esac; shift; done',
      'exec 3<"$ctl"; exec 4>"$hyp"',
      'while read -r id <&3; do sleep 0.4; echo "billing ($id -100)" >&4; done',
    ].join('\n'));
    const stt = recognizer({ binary: slow });
    const audio = Buffer.alloc(8000, 0x10);
    const order: string[] = [];
    const run = (name: string, speculative: boolean) => stt.recognize(audio, context, live(), { speculative }).then(() => void order.push(name));
    const first = run('committed 1', false); // takes the only decoder
    await until(async () => (await stt.stats()).busy === 1);
    const spec = run('speculative', true);
    await until(async () => (await stt.stats()).queued === 1);
    expect(stt.hasSpareCapacity()).toBe(true); // maxQueue 8: room for speculation left
    const late = run('committed 2', false); // arrives later, decoded earlier
    await Promise.all([first, spec, late]);
    expect(order).toEqual(['committed 1', 'committed 2', 'speculative']);
  }, 60_000);

  it('loads the model once and decodes utterance after utterance in the same process', async () => {
    const stt = recognizer();
    const [billing, support] = await Promise.all([say('I need help with billing'), say('I need help with support')]);
    expect((await stt.recognize(billing, context, live())).text).toContain('billing');
    const { pids } = await stt.stats();
    expect(pids).toHaveLength(1);
    expect((await stt.recognize(support, context, live())).text).toContain('support');
    expect((await stt.stats()).pids).toEqual(pids);
  });

  it('an utterance aborted while decoding is dropped, and the decoder stays to serve the next', async () => {
    const stt = recognizer({ poolSize: 1 });
    const one = await say('I need help with support');
    // Several seconds of speech: the decode lasts long enough to be caught in the middle.
    const long = Buffer.concat([one, one, one, one]);
    await stt.warm(grammar);
    const controller = new AbortController();
    const decoding = stt.recognize(long, context, controller.signal);
    await until(async () => (await stt.stats()).busy === 1);
    controller.abort();
    await expect(decoding).rejects.toThrow(/abort/i);
    expect((await stt.recognize(one, context, live())).text).toContain('support');
    expect((await stt.stats()).restarts).toBe(0);
  });

  it('replaces a decoder that died, and leaves no process behind on dispose', async () => {
    const stt = recognizer({ poolSize: 2 });
    const audio = await say('goodbye');
    await stt.warm(grammar);
    const pids = (await stt.stats()).pids;
    expect(pids).toHaveLength(2);
    process.kill(pids[0], 'SIGKILL');
    process.kill(pids[1], 'SIGKILL');
    await until(async () => (await stt.stats()).processes === 0);
    expect((await stt.recognize(audio, context, live())).text).toContain('goodbye');
    const after = await stt.stats();
    expect(after.restarts).toBeGreaterThanOrEqual(1);
    expect(after.pids.some((p) => pids.includes(p))).toBe(false);
    await stt.dispose();
    await until(() => after.pids.every((p) => !running(p)));
  });
});

describe('ResidentPocketsphinxRecognizer (failing decoders)', () => {
  it('an utterance aborted while queued leaves the queue at once', async () => {
    const stt = recognizer({ binary: fakeDecoder('exec sleep 60'), poolSize: 1 });
    const audio = Buffer.alloc(8000, 0x7f);
    const first = stt.recognize(audio, context, live());
    first.catch(() => undefined);
    // The first must hold the decoder before the second is sent: each writes its audio file
    // first, and those writes can finish in either order.
    await until(async () => (await stt.stats()).busy === 1);
    const controller = new AbortController();
    const queued = stt.recognize(audio, context, controller.signal);
    await until(async () => (await stt.stats()).queued === 1);
    controller.abort();
    await expect(queued).rejects.toThrow(/abort/i);
    expect(await stt.stats()).toMatchObject({ queued: 0, busy: 1 });
  });

  it('bounds concurrency: one decoder per pool slot, a bounded queue, and a clear refusal beyond it', async () => {
    const stt = recognizer({ binary: fakeDecoder('exec sleep 60'), poolSize: 1, maxQueue: 2 });
    const audio = Buffer.alloc(8000, 0x7f);
    const results = Array.from({ length: 4 }, () => stt.recognize(audio, context, live()).then(() => 'decoded', (e: Error) => e.message));
    await until(async () => { const s = await stt.stats(); return s.rejected === 1 && s.processes === 1; });
    expect(await stt.stats()).toMatchObject({ processes: 1, busy: 1, queued: 2 });
    const { pids } = await stt.stats();
    await stt.dispose();
    const messages = await Promise.all(results);
    expect(messages.filter((m) => /recogniser busy/.test(m))).toHaveLength(1);
    expect(messages.filter((m) => /shut down/.test(m))).toHaveLength(3);
    await until(() => pids.every((p) => !running(p)));
  });


  it('kills a decoder that overruns the deadline and reports a provider error', async () => {
    const stt = recognizer({ binary: fakeDecoder('exec sleep 60'), timeoutMs: 1500 });
    const pending = stt.recognize(Buffer.alloc(8000, 0x7f), context, live());
    pending.catch(() => undefined);
    await until(async () => (await stt.stats()).pids.length === 1);
    const [pid] = (await stt.stats()).pids;
    expect(running(pid)).toBe(true);
    await expect(pending).rejects.toThrow(/took over 1500 ms/);
    await until(() => !running(pid));
  });

  it('fails fast (no hang) when the decoder exits at start', async () => {
    const stt = recognizer({ binary: fakeDecoder('exit 3'), timeoutMs: 5000 });
    const audio = Buffer.alloc(8000, 0x7f);
    const started = Date.now();
    await expect(stt.recognize(audio, context, live())).rejects.toThrow(/exited|not running/);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('treats under 0.2 s of audio as nothing heard without starting a decoder', async () => {
    const stt = recognizer();
    expect(await stt.recognize(Buffer.alloc(800, 0xff), context, live())).toEqual({ text: '', confidence: 0 });
    expect((await stt.stats()).processes).toBe(0);
  });
});

describe('trimSilence', () => {
  it('keeps the loud part of an utterance and a margin around it', () => {
    const silence = Buffer.alloc(8000, 0xff); // 1 s of μ-law silence
    const loud = Buffer.alloc(4000, 0x10); // 0.5 s, loud
    const trimmed = trimSilence(Buffer.concat([silence, loud, silence]));
    expect(trimmed.length).toBe(4000 + (400 + 300) * 8); // 400 ms kept before, 300 ms after
    expect(trimSilence(silence.subarray(0, 320))).toHaveLength(320);
  });
});
