import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface ElevenLabsBehaviour {
  /** Wait this long before the first audio of a stream (a slow provider). */
  firstAudioDelayMs?: number;
  /** Pause between audio chunks (so a test can see frames go out before the sentence is complete). */
  chunkGapMs?: number;
  /** Close the socket (1011) after this many audio chunks. */
  closeAfterChunks?: number;
  /** Send malformed messages instead of audio. */
  garbageOnly?: boolean;
}

/** One stream-input socket the fake served. */
export interface ElevenLabsStream {
  voiceId: string;
  query: URLSearchParams;
  headerKey?: string;
  messages: Record<string, unknown>[];
  text: string;
  chunksSent: number;
  /** performance.now() when the socket was accepted, and when its first text arrived. */
  openedAt: number;
  textAt?: number;
  firstChunkAt?: number;
  lastChunkAt?: number;
}

/**
 * A local ElevenLabs text-to-speech server speaking the real stream-input protocol
 * (`/v1/text-to-speech/{voice}/stream-input?model_id=…&output_format=ulaw_8000`): the first
 * message (`text: " "`, voice settings, `xi-api-key`), text chunks, `flush`, and `{"text": ""}`
 * to end; answers are `{audio: base64, isFinal: null, normalizedAlignment, alignment}` chunks and
 * a closing `{isFinal: true}`. A bad key is refused the way the service does it: the socket is
 * closed with 1008 and a reason. Audio comes from `voice(text)` (tests use espeak-ng, benchmarks
 * a ready-made tone).
 */
export class FakeElevenLabs {
  private server?: Server;
  private wss?: WebSocketServer;
  apiKey = 'test-elevenlabs-key';
  behaviour: ElevenLabsBehaviour = {};
  readonly streams: ElevenLabsStream[] = [];
  private readonly sockets = new Set<WebSocket>();
  /** Bytes of μ-law per audio message (200 ms). */
  chunkBytes = 1600;

  constructor(private readonly voice: (text: string) => Promise<Buffer>) {}

  async start(): Promise<string> {
    this.server = createServer((_req, res) => res.writeHead(404).end());
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const match = /^\/v1\/text-to-speech\/([^/]+)\/stream-input$/.exec(url.pathname);
      if (!match) return void socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      this.wss!.handleUpgrade(req, socket, head, (ws) => this.serve(ws, match[1], url.searchParams, req.headers['xi-api-key'] as string | undefined));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `ws://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss?.close();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private serve(ws: WebSocket, voiceId: string, query: URLSearchParams, headerKey: string | undefined): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    const stream: ElevenLabsStream = { voiceId, query, headerKey, messages: [], text: '', chunksSent: 0, openedAt: performance.now() };
    this.streams.push(stream);
    const behaviour = { ...this.behaviour };
    let buffered = '';
    let generating: Promise<void> = Promise.resolve();
    let initialised = false;

    const generate = (text: string, final: boolean) => {
      generating = generating.then(async () => {
        if (text.trim()) {
          const audio = await this.voice(text.trim());
          if (behaviour.firstAudioDelayMs && stream.chunksSent === 0) await sleep(behaviour.firstAudioDelayMs);
          for (let offset = 0; offset < audio.length; offset += this.chunkBytes) {
            if (ws.readyState !== ws.OPEN) return;
            if (behaviour.closeAfterChunks !== undefined && stream.chunksSent >= behaviour.closeAfterChunks) return void ws.close(1011, 'internal error');
            if (behaviour.garbageOnly) {
              ws.send('{"audio": 42}');
              ws.send('not json at all');
              continue;
            }
            const chunk = audio.subarray(offset, offset + this.chunkBytes);
            ws.send(JSON.stringify({ audio: chunk.toString('base64'), isFinal: null, normalizedAlignment: null, alignment: null }));
            stream.chunksSent++;
            stream.firstChunkAt ??= performance.now();
            stream.lastChunkAt = performance.now();
            if (behaviour.chunkGapMs) await sleep(behaviour.chunkGapMs);
          }
        }
        if (final && ws.readyState === ws.OPEN) {
          ws.send(JSON.stringify({ isFinal: true }));
          ws.close(1000);
        }
      });
    };

    ws.on('message', (data) => {
      let message: { text?: unknown; flush?: unknown; 'xi-api-key'?: unknown };
      try {
        message = JSON.parse(String(data));
      } catch {
        return void ws.close(1008, 'Invalid message received');
      }
      stream.messages.push(message as Record<string, unknown>);
      if (typeof message.text !== 'string') return void ws.close(1008, 'Invalid message received: text is required');
      if (!initialised) {
        initialised = true;
        const key = message['xi-api-key'] ?? headerKey;
        if (key !== this.apiKey) return void ws.close(1008, 'Invalid API key');
        if (message.text !== ' ') return void ws.close(1008, 'The first message must contain a single space');
        return;
      }
      if (message.text === '') return generate(takeAll(), true);
      buffered += message.text;
      stream.text += message.text;
      stream.textAt ??= performance.now();
      if (message.flush === true) generate(takeAll(), false);
    });

    function takeAll(): string {
      const text = buffered;
      buffered = '';
      return text;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
