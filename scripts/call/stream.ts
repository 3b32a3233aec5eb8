import { randomBytes } from 'node:crypto';
import { readAgentsFile } from '#libs/agents';
import { EspeakSynthesizer, PocketsphinxRecognizer, type SpeechGrammar } from '#libs/media';
import { signTwilioRequest } from '#libs/telephony';
import { TwilioMediaClient } from './media-client.js';
import type { SimulatorOptions } from './options.js';

export interface StreamCallOptions extends SimulatorOptions {
  /** Speak each utterance over the agent's answer (about 0.8 s into it) to show the `clear`. */
  bargeIn: boolean;
  /** Agents file whose sentences the transcriber listens for (default config/agents.json). */
  agentsFile?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything an agent may say, cut into sentences: the grammar the simulator transcribes the agent with. */
function agentSentences(agentsFile: string): SpeechGrammar {
  const phrases = new Set<string>();
  const add = (text: string) => text.split(/(?<=[.!?])\s+/).forEach((s) => s.trim() && phrases.add(s));
  for (const agent of readAgentsFile(agentsFile)) {
    add(agent.greeting);
    agent.departments.forEach((d) => (add(d.welcome), add(`Connecting you to ${d.name} now.`)));
    agent.faq.forEach((f) => add(f.answer));
  }
  ['Please hold while I connect you to a member of our team.', 'Thank you for calling. Goodbye!', "Sorry, I didn't quite follow.", 'Is there anything else I can help with?'].forEach(add);
  return { id: 'simulator', phrases: [...phrases], keywords: [], leads: [] };
}

/**
 * Plays a caller on a Media Stream: the signed voice webhook, a signed socket, the utterances as
 * real audio (espeak-ng → μ-law, 20 ms frames at real time), and the agent's audio transcribed
 * sentence by sentence (one sentence per mark). With `bargeIn`, talks over each answer.
 */
export async function runStreamCall(options: StreamCallOptions): Promise<{ callSid: string }> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const callSid = `CA${randomBytes(16).toString('hex')}`;
  const params = {
    CallSid: callSid, AccountSid: options.accountSid, From: options.from ?? '+15005550006', To: options.to ?? '+15005550001',
    CallStatus: 'in-progress', Direction: 'inbound', ApiVersion: '2010-04-01',
  };
  const base = options.publicBaseUrl.replace(/\/+$/, '');
  const res = await fetch(`${options.apiUrl.replace(/\/+$/, '')}/twilio/voice?mode=stream`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signTwilioRequest(options.authToken, `${base}/twilio/voice?mode=stream`, params),
    },
    body: new URLSearchParams(params).toString(),
  });
  const twiml = await res.text();
  const token = /<Parameter name="token" value="([^"]+)"\/>/.exec(twiml)?.[1];
  if (res.status !== 200 || !token) throw new Error(`voice webhook answered ${res.status}: ${twiml.slice(0, 200)}`);
  print(`☎  ${callSid}: <Connect><Stream> answered, opening the media socket`);

  const tts = new EspeakSynthesizer({ espeak: 'espeak-ng', sox: 'sox', rate: 150, timeoutMs: 10_000 });
  const stt = new PocketsphinxRecognizer({ binary: 'pocketsphinx_continuous', dictionary: '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict', timeoutMs: 10_000 });
  const grammar = agentSentences(options.agentsFile ?? 'config/agents.json');
  const client = new TwilioMediaClient({ apiUrl: options.apiUrl, publicBaseUrl: base, authToken: options.authToken });
  const signal = new AbortController().signal;
  let transcribed = 0;

  /** Prints each agent sentence once its mark came back (i.e. it "played"). */
  const transcribe = async () => {
    for (;;) {
      const markIndex = client.received.findIndex((x, i) => i >= transcribed && (x.kind === 'mark' || x.kind === 'clear'));
      if (markIndex < 0) return;
      const item = client.received[markIndex];
      const audio = client.audioBetween(transcribed, markIndex);
      transcribed = markIndex + 1;
      if (item.kind === 'clear') {
        print(`   ⟂ clear received: the agent stopped${audio.length ? ` (${audio.length / 8} ms of audio cut)` : ''}`);
        continue;
      }
      if (!audio.length) continue;
      const { text } = await stt.recognize(audio, { language: 'en-US', grammar }, signal).catch(() => ({ text: '' }));
      print(`🤖 agent: ${text || '(unrecognised)'}  [${audio.length / 8} ms]`);
    }
  };
  /** Waits for the agent to say something after `since` (an index of `received`), then to fall quiet. */
  const quietFor = async (ms: number, since: number, max = 30_000) => {
    const deadline = Date.now() + max;
    while (client.received.length <= since && Date.now() < deadline && !client.closed) await sleep(50);
    while (Date.now() < deadline && !client.closed) {
      await transcribe();
      const last = client.received.at(-1)?.at ?? 0;
      if (client.received.length && performance.now() - last > ms && client.echoed.length >= client.received.filter((x) => x.kind === 'mark').length) return;
      await sleep(100);
    }
  };

  try {
    await client.connect();
    client.start(callSid, options.accountSid, token);
    client.startAudio();
    if (!options.bargeIn) await quietFor(1200, 0);
    let answerFrom = 0;
    for (const utterance of options.utterances) {
      const audio = await tts.synthesize(utterance, { language: 'en-US' }, signal);
      if (options.bargeIn) {
        // Talk over the agent's current answer (the greeting first), 0.8 s into its audio.
        const deadline = Date.now() + 15_000;
        while (!client.received.slice(answerFrom).some((x) => x.kind === 'media') && Date.now() < deadline && !client.closed) await sleep(20);
        await sleep(800);
        await transcribe();
        print(`🗣  caller (talking over the agent): ${utterance}`);
        const t0 = performance.now();
        const from = client.received.length;
        const spoken = client.say(audio);
        while (!client.received.slice(from).some((x) => x.kind === 'clear') && performance.now() - t0 < 3000) await sleep(5);
        const clear = client.received.slice(from).find((x) => x.kind === 'clear');
        print(clear ? `   ⟂ clear ${Math.round(clear.at - t0)} ms after the caller started talking` : '   (no clear: the agent was not speaking)');
        await spoken;
        answerFrom = client.received.length;
      } else {
        print(`🗣  caller: ${utterance}`);
        await client.say(audio);
        await quietFor(1500, client.received.length);
      }
      if (client.closed) break;
    }
    if (options.bargeIn) await quietFor(1500, answerFrom);
    await transcribe();
    if (!client.closed) client.stop(callSid, options.accountSid);
  } finally {
    client.close();
    await stt.dispose();
  }
  return { callSid };
}
