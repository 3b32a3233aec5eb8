import type { Config } from '#libs/config';
import { EspeakSynthesizer, PocketsphinxRecognizer } from '#libs/media';
import { FakeTwilio, callParams } from './harness.js';

export const tts = new EspeakSynthesizer({ espeak: 'espeak-ng', sox: 'sox', rate: 150, timeoutMs: 10_000 });
export const stt = new PocketsphinxRecognizer({ binary: 'pocketsphinx_continuous', dictionary: '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict', timeoutMs: 10_000 });

/** Caller audio as Twilio would carry it: espeak-ng → 8 kHz μ-law. */
export function say(text: string): Promise<Buffer> {
  return tts.synthesize(text, { language: 'en-US' }, new AbortController().signal);
}

/** Recognises the agent's audio with the embedded recogniser, against the sentences the agent may say. */
export async function hear(mulaw: Buffer, phrases: string[]): Promise<string> {
  const grammar = { id: 'agent-replies', phrases, keywords: [], leads: [] };
  const { text } = await stt.recognize(mulaw, { language: 'en-US', grammar }, new AbortController().signal);
  return text;
}

/** Answers a call in `mode` through the signed voice webhook; returns the TwiML and the stream token. */
export async function answerCall(twilio: FakeTwilio, config: Config, callSid: string, mode: 'stream' | 'relay') {
  const res = await twilio.post(`/twilio/voice?mode=${mode}`, callParams(callSid, config));
  const token = /<Parameter name="token" value="([^"]+)"\/>/.exec(res.body)?.[1];
  return { res, token: token! };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
