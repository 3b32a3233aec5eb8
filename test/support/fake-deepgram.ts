import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { mulawLevelDb } from '#libs/media';

/** How the fake misbehaves on a connection (tests of failures). */
export interface DeepgramBehaviour {
  /** Delay every message by this much (a slow provider). */
  delayMs?: number;
  /** Close the socket with this code when speech is first heard. */
  closeOnSpeech?: { code: number; reason: string };
  /** Interleave malformed messages with the real ones. */
  garbage?: boolean;
  /** Never send a final result (a provider that hears but never ends the turn). */
  neverFinal?: boolean;
}

/** One stream the fake served. */
export interface DeepgramConnection {
  query: URLSearchParams;
  authorization?: string;
  audioBytes: number;
  controls: string[];
  sent: Record<string, unknown>[];
  closedCode?: number;
}

export const SPEECH_DB = -45;

/**
 * A local Deepgram live-transcription server speaking the real `/v1/listen` protocol: token auth
 * on the upgrade (401 otherwise), binary μ-law in, and `Results` (interim, then `is_final` +
 * `speech_final` after `endpointing` ms of silence), `SpeechStarted` (vad_events) and
 * `UtteranceEnd` (utterance_end_ms) out, on the audio's own clock. What it "recognises" is
 * scripted: each utterance takes the next text of `script`.
 */
export class FakeDeepgram {
  private server?: Server;
  private wss?: WebSocketServer;
  apiKey = 'test-deepgram-key';
  /** Texts the next utterances are heard as, in order (shared by every connection). */
  script: string[] = [];
  behaviour: DeepgramBehaviour = {};
  readonly connections: DeepgramConnection[] = [];
  /** performance.now() of each `speech_final` sent (benchmarks: the provider's end of turn). */
  readonly speechFinalAt: number[] = [];
  private readonly sockets = new Set<WebSocket>();

  async start(): Promise<string> {
    this.server = createServer((_req, res) => res.writeHead(404).end());
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/v1/listen') return void socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      if (req.headers.authorization !== `Token ${this.apiKey}`) {
        // What Deepgram answers a bad key with: a plain 401 on the upgrade, its error in the body.
        const body = JSON.stringify({ err_code: 'INVALID_AUTH', err_msg: 'Invalid credentials.', request_id: 'fake' });
        return void socket.end(`HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      }
      this.wss!.handleUpgrade(req, socket, head, (ws) => this.serve(ws, req, url.searchParams));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `ws://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1/listen`;
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss?.close();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private serve(ws: WebSocket, req: IncomingMessage, query: URLSearchParams): void {
    this.sockets.add(ws);
    const conn: DeepgramConnection = { query, authorization: req.headers.authorization, audioBytes: 0, controls: [], sent: [] };
    this.connections.push(conn);
    const behaviour = { ...this.behaviour };
    const endpointingMs = Number(query.get('endpointing') ?? 10);
    const utteranceEndMs = query.has('utterance_end_ms') ? Number(query.get('utterance_end_ms')) : undefined;
    const interim = query.get('interim_results') === 'true';
    const vadEvents = query.get('vad_events') === 'true';
    let audioMs = 0;
    let speaking = false;
    let speechMs = 0;
    let silenceMs = 0;
    let utteranceStart = 0;
    let text = '';
    let finalSent = false;
    let utteranceEndDue: number | undefined;
    let lastWordEnd = 0;

    const send = (message: Record<string, unknown>) => {
      const deliver = () => {
        if (ws.readyState !== ws.OPEN) return;
        if (behaviour.garbage) ws.send(Math.random() < 0.5 ? '{"type":"Results","channel":' : JSON.stringify({ type: 'Mystery', n: 1 }));
        if (message.speech_final === true) this.speechFinalAt.push(performance.now());
        conn.sent.push(message);
        ws.send(JSON.stringify(message));
      };
      if (behaviour.delayMs) setTimeout(deliver, behaviour.delayMs).unref();
      else deliver();
    };
    const results = (words: string, isFinal: boolean, speechFinal: boolean) =>
      send({
        type: 'Results',
        channel_index: [0, 1],
        duration: (audioMs - utteranceStart) / 1000,
        start: utteranceStart / 1000,
        is_final: isFinal,
        speech_final: speechFinal,
        channel: { alternatives: [{ transcript: words, confidence: 0.97, words: words.split(' ').filter(Boolean).map((w, i) => ({ word: w.toLowerCase(), start: utteranceStart / 1000 + i * 0.3, end: utteranceStart / 1000 + i * 0.3 + 0.25, confidence: 0.97, punctuated_word: w })) }] },
        metadata: { request_id: 'fake-request', model_info: { name: query.get('model') ?? 'general', version: 'fake', arch: 'fake' }, model_uuid: 'fake' },
        from_finalize: false,
      });

    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const control = String(data);
        conn.controls.push(control);
        if (control.includes('CloseStream')) {
          send({ type: 'Metadata', transaction_key: 'deprecated', request_id: 'fake-request', duration: audioMs / 1000, channels: 1 });
          setTimeout(() => ws.close(1000), 5);
        }
        return;
      }
      const audio = data as Buffer;
      conn.audioBytes += audio.length;
      for (let offset = 0; offset + 160 <= audio.length; offset += 160) {
        audioMs += 20;
        const loud = mulawLevelDb(audio.subarray(offset, offset + 160)) >= SPEECH_DB;
        if (loud) {
          silenceMs = 0;
          if (!speaking) {
            speaking = true;
            speechMs = 0;
            utteranceStart = audioMs - 20;
            finalSent = false;
            utteranceEndDue = undefined;
            text = this.script.shift() ?? '';
            if (behaviour.closeOnSpeech) return void ws.close(behaviour.closeOnSpeech.code, behaviour.closeOnSpeech.reason);
            if (vadEvents) send({ type: 'SpeechStarted', channel: [0], timestamp: utteranceStart / 1000 });
          }
          speechMs += 20;
          // Interim results every 200 ms of speech, revealing the scripted words at about three per second.
          if (interim && speechMs % 200 === 0 && text) {
            const words = text.split(' ');
            results(words.slice(0, Math.min(words.length, Math.ceil(speechMs / 330))).join(' '), false, false);
          }
          lastWordEnd = audioMs / 1000;
        } else if (speaking) {
          silenceMs += 20;
          if (silenceMs >= endpointingMs && !finalSent) {
            speaking = false;
            finalSent = true;
            if (!behaviour.neverFinal) results(text, true, true);
            if (utteranceEndMs) utteranceEndDue = audioMs + utteranceEndMs - silenceMs;
          }
        } else if (utteranceEndDue !== undefined && audioMs >= utteranceEndDue) {
          utteranceEndDue = undefined;
          if (!behaviour.neverFinal) send({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: lastWordEnd });
        }
      }
    });
    ws.on('close', (code) => {
      conn.closedCode = code;
      this.sockets.delete(ws);
    });
  }
}
