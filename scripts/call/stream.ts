import { readAgentsFile } from '#libs/agents';
import { EspeakSynthesizer, PocketsphinxRecognizer, type SpeechGrammar } from '#libs/media';
import { TwilioMediaClient } from './media-client.js';
import { inputsOf, type CallResult, type SimulatorOptions } from './options.js';
import { TwilioCallSide, type RestUpdate } from './twilio-side.js';

/** The speech tools, from the same configuration as the apps (ESPEAK_BIN, SOX_BIN, POCKETSPHINX_*). */
export interface SpeechTools {
  espeak: string;
  sox: string;
  rate: number;
  pocketsphinx: string;
  dictionary: string;
}

export interface StreamCallOptions extends SimulatorOptions {
  /** Speak each utterance over the agent's answer (about 0.8 s into it) to show the `clear`. */
  bargeIn: boolean;
  /** Agents file whose sentences the transcriber listens for (default config/agents.json). */
  agentsFile?: string;
  tools?: SpeechTools;
  status?: 'busy' | 'no-answer' | 'failed';
  /** The caller turns the server stored so far (what it heard), for "said / heard" lines. */
  storedCallerTurns?: (callSid: string) => Promise<string[]>;
}

const DEFAULT_TOOLS: SpeechTools = {
  espeak: 'espeak-ng', sox: 'sox', rate: 150, pocketsphinx: 'pocketsphinx_continuous', dictionary: '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything an agent may say, cut into sentences: the grammar the simulator transcribes the agent with. */
function agentSentences(agentsFile: string): SpeechGrammar {
  const phrases = new Set<string>();
  const add = (text: string) => text.split(/(?<=[.!?])\s+/).forEach((s) => s.trim() && phrases.add(s));
  for (const agent of readAgentsFile(agentsFile)) {
    add(agent.greeting);
    agent.departments.forEach((d) => (add(d.welcome), add(`Connecting you to ${d.name} now.`), add(`Someone from our ${d.name} team will call you back on this number within one working day.`)));
    add('Someone from our team will call you back on this number within one working day.');
    agent.faq.forEach((f) => add(f.answer));
  }
  // The built-in agent's own sentences (libs/agents/src/local-agent.ts).
  [
    'Please hold while I connect you to a member of our team.', 'Thank you for calling. Goodbye!', "Sorry, I didn't quite follow.", 'Is there anything else I can help with?',
    "I'm sorry to hear that.", 'When does it happen: all the time, or at particular times?', "Thanks. I'm sorry about that.", 'No problem.', 'Of course.',
    'What else can I help with?', 'Would you like me to put you through to our billing team?', 'Thanks, I have noted your interest.',
    'Would you like someone from our sales team to call you back about it?', "I'm sorry, no one is available to take your call right now.",
    'Would you like someone to call you back on this number?', 'Thank you.', 'A technician will look into it.',
  ].forEach(add);
  return { id: 'simulator', phrases: [...phrases], keywords: [], leads: [] };
}

/**
 * Plays a caller on a Media Stream: the signed voice webhook, a signed socket, the utterances as
 * real audio (espeak-ng → μ-law, 20 ms frames at real time), and the agent's audio transcribed
 * sentence by sentence (one sentence per mark). With `bargeIn`, talks over each answer. A hang-up
 * or transfer the server sends through the REST API (seen by the stand-in) ends the stream, as
 * it does on Twilio.
 */
export async function runStreamCall(options: StreamCallOptions): Promise<CallResult> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const call = new TwilioCallSide(options);
  const { callSid } = call;
  const connected = await call.connect('stream', options.status, print);
  if (!connected) return { callSid, outcome: 'not-answered' };
  const { token } = connected;
  if (!call.hasStandIn) print('   (no Twilio REST stand-in (TWILIO_API_BASE_URL): an agent hang-up or transfer will not be seen)');
  await call.answered();

  const tools = options.tools ?? DEFAULT_TOOLS;
  const tts = new EspeakSynthesizer({ espeak: tools.espeak, sox: tools.sox, rate: tools.rate, timeoutMs: 10_000 });
  const stt = new PocketsphinxRecognizer({ binary: tools.pocketsphinx, dictionary: tools.dictionary, timeoutMs: 10_000 });
  const grammar = agentSentences(options.agentsFile ?? 'config/agents.json');
  const client = new TwilioMediaClient({ apiUrl: options.apiUrl, publicBaseUrl: options.publicBaseUrl.replace(/\/+$/, ''), authToken: options.authToken });
  const signal = new AbortController().signal;
  let transcribed = 0;
  let result: CallResult = { callSid, outcome: 'caller-hung-up' };
  let update: RestUpdate | undefined;
  let lastPoll = 0;

  /** Prints each agent sentence once its mark came back (i.e. it "played"). */
  const transcribe = async () => {
    for (;;) {
      const markIndex = client.received.findIndex((x, i) => i >= transcribed && (x.kind === 'mark' || x.kind === 'clear'));
      if (markIndex < 0) return;
      const item = client.received[markIndex];
      const audio = client.audioBetween(transcribed, markIndex);
      transcribed = markIndex + 1;
      if (item.kind === 'clear') {
        // What played of the interrupted sentence before the server sent `clear`.
        const heard = audio.length ? (await stt.recognize(audio, { language: 'en-US', grammar }, signal).catch(() => ({ text: '' }))).text : '';
        print(`🤖 agent: ${heard || '…'} ⟂ interrupted (the server sent clear after ${(audio.length / 8000).toFixed(1)} s of this sentence)`);
        continue;
      }
      if (!audio.length) continue;
      const { text } = await stt.recognize(audio, { language: 'en-US', grammar }, signal).catch(() => ({ text: '' }));
      print(`🤖 agent: ${text || '(unrecognised)'}  (${(audio.length / 8000).toFixed(1)} s of audio)`);
    }
  };
  /** Asks the stand-in whether the server ended the call through the REST API. */
  const checkRest = async (force = false) => {
    if (update || (!force && performance.now() - lastPoll < 250)) return;
    lastPoll = performance.now();
    update = (await call.restUpdates()).find((u) => u.kind === 'hangup' || u.kind === 'transfer');
  };
  /** Waits for the agent to say something after `since` (an index of `received`), then to fall quiet. */
  const quietFor = async (ms: number, since: number, max = 30_000) => {
    const deadline = Date.now() + max;
    while (client.received.length <= since && Date.now() < deadline && !client.closed && !update) {
      await sleep(50);
      await checkRest();
    }
    while (Date.now() < deadline && !client.closed && !update) {
      await transcribe();
      await checkRest();
      const last = client.received.at(-1)?.at ?? 0;
      if (client.received.length && performance.now() - last > ms && client.echoed.length >= client.received.filter((x) => x.kind === 'mark').length) return;
      await sleep(100);
    }
  };
  /** What the server stored as the caller's words for the `n`th caller turn (waits a little: writes go through the worker). */
  const heard = async (n: number) => {
    if (!options.storedCallerTurns) return undefined;
    for (const deadline = Date.now() + 3000; Date.now() < deadline; await sleep(150)) {
      const turns = await options.storedCallerTurns(callSid).catch(() => []);
      if (turns.length >= n) return turns[n - 1];
    }
    return '(nothing stored: the recogniser did not understand)';
  };

  let callerTurns = 0;
  try {
    await client.connect();
    client.start(callSid, options.accountSid, token);
    client.startAudio();
    if (!options.bargeIn) await quietFor(1200, 0);
    let answerFrom = 0;
    for (const input of inputsOf(options)) {
      if (client.closed || update) break;
      if (input.kind === 'silence') {
        print('🤐 caller: (silence)');
        await sleep(3000);
        continue;
      }
      if (input.kind === 'dtmf') {
        print(`☎  caller pressed ${input.digits}`);
        const from = client.received.length;
        for (const digit of input.digits) client.dtmf(digit);
        callerTurns++;
        await quietFor(1500, from);
        continue;
      }
      const utterance = input.text;
      const audio = await tts.synthesize(utterance, { language: 'en-US' }, signal);
      if (options.bargeIn) {
        // Talk over the agent's current answer (the greeting first), 0.8 s into its audio.
        const deadline = Date.now() + 15_000;
        while (!client.received.slice(answerFrom).some((x) => x.kind === 'media') && Date.now() < deadline && !client.closed) await sleep(20);
        await sleep(800);
        await transcribe();
        print(`🗣  caller said (talking over the agent): ${utterance}`);
        const t0 = performance.now();
        const from = client.received.length;
        const spoken = client.say(audio);
        while (!client.received.slice(from).some((x) => x.kind === 'clear') && performance.now() - t0 < 3000) await sleep(5);
        const clear = client.received.slice(from).find((x) => x.kind === 'clear');
        print(clear ? `   ⟂ clear ${Math.round(clear.at - t0)} ms after the caller started talking` : '   (no clear: the agent was not speaking)');
        await spoken;
        answerFrom = client.received.length;
      } else {
        print(`🗣  caller said: ${utterance}`);
        await client.say(audio);
        const endOfSpeech = performance.now();
        const from = client.received.length;
        await quietFor(1500, from);
        const firstAudio = client.received.slice(from).find((x) => x.kind === 'media');
        print(`👂 server heard: ${(await heard(++callerTurns)) ?? '(no database access to check)'}`);
        print(firstAudio
          ? `   ⏱ end of speech → first agent audio: ${Math.round(firstAudio.at - endOfSpeech)} ms (includes the server's end-of-turn silence)`
          : '   ⏱ no agent audio after this utterance');
      }
    }
    if (options.bargeIn) await quietFor(1500, answerFrom);
    await transcribe();
    // The last answer may be a goodbye or a transfer: give the server's REST call a moment.
    for (const deadline = Date.now() + 2500; !update && Date.now() < deadline && !client.closed; await sleep(250)) await checkRest(true);
    if (update?.kind === 'transfer') {
      print(`↪  transferred to ${update.to}`);
      result = { callSid, outcome: 'transfer', transferTo: update.to };
    } else if (update?.kind === 'hangup') {
      print('📴 agent hung up');
      result = { callSid, outcome: 'hangup' };
    } else {
      print('📴 caller hung up');
    }
    // New TwiML (or a hang-up) ends the stream: Twilio sends `stop` and closes the socket.
    if (!client.closed) client.stop(callSid, options.accountSid);
  } finally {
    client.close();
    await stt.dispose();
  }
  await call.end('completed');
  return result;
}
