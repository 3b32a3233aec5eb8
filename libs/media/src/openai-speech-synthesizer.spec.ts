import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MULAW_TO_PCM } from './mulaw.js';
import { Downsample24kToMulaw, OpenAiSpeechSynthesizer } from './openai-speech-synthesizer.js';
import { SpeechAuthError, SpeechProviderError } from './speech.types.js';

/** 24 kHz PCM16 of a 400 Hz sine, `ms` long. */
function sine24k(ms: number, amplitude = 8000): Buffer {
  const samples = (24_000 * ms) / 1000;
  const b = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) b.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * 400 * i) / 24_000)), i * 2);
  return b;
}

/**
 * OpenAI's speech endpoint as the real client sees it: POST /v1/audio/speech with a Bearer key,
 * a chunked body of raw 24 kHz PCM16 for response_format=pcm, OpenAI's JSON error on a bad key.
 */
let server: Server;
let baseURL: string;
const requests: { auth?: string; body: Record<string, unknown> }[] = [];
let mode: 'ok' | 'stall' = 'ok';

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return JSON.parse(text) as Record<string, unknown>;
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const parsed = await body(req);
    requests.push({ auth: req.headers.authorization, body: parsed });
    if (req.url !== '/v1/audio/speech') return void res.writeHead(404).end();
    if (req.headers.authorization !== 'Bearer sk-test') {
      res.writeHead(401, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: { message: 'Incorrect API key provided: sk-wrong.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }));
    }
    if (mode === 'stall') return; // never answers
    res.writeHead(200, { 'content-type': 'audio/pcm', 'transfer-encoding': 'chunked' });
    const audio = sine24k(600);
    // Odd-sized chunks: the resampler must carry half samples and partial triples.
    for (let offset = 0; offset < audio.length; offset += 4801) {
      res.write(audio.subarray(offset, offset + 4801));
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const synth = (apiKey = 'sk-test', timeoutMs = 2000) => new OpenAiSpeechSynthesizer({ baseURL, apiKey, model: 'gpt-4o-mini-tts', voice: 'alloy', timeoutMs });

describe('OpenAI speech synthesiser', () => {
  it('streams the pcm answer as 8 kHz μ-law, chunk by chunk, with the documented request', async () => {
    mode = 'ok';
    const chunks: Buffer[] = [];
    await synth().synthesizeStream('Hello there.', { language: 'en-US' }, new AbortController().signal, (c) => chunks.push(c));
    expect(requests.at(-1)).toEqual({ auth: 'Bearer sk-test', body: { model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'Hello there.', response_format: 'pcm' } });
    expect(chunks.length).toBeGreaterThan(3);
    const audio = Buffer.concat(chunks);
    expect(audio.length).toBe(4800); // 600 ms at 8 kHz
    // Still a 400 Hz tone at about the same level: decode and check its peak.
    const peak = Math.max(...[...audio].map((b) => Math.abs(MULAW_TO_PCM[b])));
    expect(peak).toBeGreaterThan(6000);
    expect(peak).toBeLessThan(9000);
  });

  it('a refused key is a SpeechAuthError naming the variable to check', async () => {
    await expect(synth('sk-wrong').synthesize('Hi.', { language: 'en-US' }, new AbortController().signal)).rejects.toThrow(SpeechAuthError);
    await expect(synth('sk-wrong').synthesize('Hi.', { language: 'en-US' }, new AbortController().signal)).rejects.toThrow(/OPENAI_API_KEY/);
  });

  it('a stalled endpoint fails within the timeout; an abort rejects at once', async () => {
    mode = 'stall';
    const started = Date.now();
    await expect(synth('sk-test', 300).synthesize('Hi.', { language: 'en-US' }, new AbortController().signal)).rejects.toThrow(SpeechProviderError);
    expect(Date.now() - started).toBeLessThan(2000);
    const controller = new AbortController();
    const pending = synth('sk-test', 5000).synthesize('Hi.', { language: 'en-US' }, controller.signal);
    setTimeout(() => controller.abort(new DOMException('answer interrupted', 'AbortError')), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    mode = 'ok';
  });

  it('the resampler carries odd bytes across chunks', () => {
    const r = new Downsample24kToMulaw();
    const pcm = sine24k(10);
    const out = Buffer.concat([r.push(pcm.subarray(0, 7)), r.push(pcm.subarray(7, 100)), r.push(pcm.subarray(100))]);
    expect(out.length).toBe(80);
  });
});
