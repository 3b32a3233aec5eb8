import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer of the fake model. */
export type Behaviour =
  /** A plain answer; streamed in `chunkSize`-character pieces when the request asks for a stream. */
  | { kind: 'text'; text: string; delayMs?: number; chunkDelayMs?: number; chunkSize?: number }
  /** Tool calls (several are parallel calls), optionally with some text before them. */
  | { kind: 'tools'; calls: { name: string; arguments: string | Record<string, unknown> }[]; text?: string; delayMs?: number }
  /** An HTTP error in OpenAI's error format, e.g. 429 with retry-after-ms. */
  | { kind: 'error'; status: number; headers?: Record<string, string>; message?: string; delayMs?: number }
  /** Accept the request and never answer (until the client gives up). */
  | { kind: 'hang' }
  /** A body (or an SSE event) that is not JSON. */
  | { kind: 'malformed' }
  /** Start streaming `text`, then break off after `afterChars`: destroy the socket, or end the body cleanly without [DONE]. */
  | { kind: 'cut'; text: string; afterChars: number; how?: 'destroy' | 'end' };

export interface ChatRequest {
  /** Path segment before /v1 (tests give each worker process its own, e.g. "w2"), or ''. */
  prefix: string;
  body: {
    model?: string;
    stream?: boolean;
    messages?: { role: string; content?: string | null; tool_calls?: unknown[]; tool_call_id?: string }[];
    tools?: { type: string; function: { name: string } }[];
    tool_choice?: unknown;
    max_tokens?: number;
    temperature?: number;
  };
  authorization?: string;
  receivedAt: number;
  /** When the connection closed; `aborted` says whether the client closed it before the answer ended. */
  closedAt?: number;
  aborted?: boolean;
  behaviour?: Behaviour['kind'];
}

type Responder = (request: ChatRequest) => Behaviour;

/**
 * A local stand-in for an OpenAI-compatible server: POST …/v1/chat/completions answered in the
 * real wire format — chat.completion JSON, or chat.completion.chunk server-sent events ending
 * in `data: [DONE]` — with scripted behaviours (latency, tool calls, 429s, hangs, malformed
 * JSON, streams cut mid-answer). The project's real provider, with the official client, talks to it.
 */
export class FakeOpenAi {
  readonly requests: ChatRequest[] = [];
  private readonly script: Behaviour[] = [];
  private server?: Server;
  private base = '';
  private counter = 0;
  /** Answers requests when the script is empty. */
  responder: Responder = () => ({ kind: 'text', text: 'Hello from the fake model.' });

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    // Keep-alive like the real API. A hint of 1 s made undici (threshold 2 s) close every
    // connection after one response: a TCP connect and close per model request. stop() closes
    // idle connections itself.
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this.url();
  }

  /** Base URL to configure as OPENAI_BASE_URL; a prefix tells the requests of one client apart. */
  url(prefix = ''): string {
    return `${this.base}${prefix ? `/${prefix}` : ''}/v1`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Queues behaviours for the next requests, in order. */
  then(...behaviours: Behaviour[]): this {
    this.script.push(...behaviours);
    return this;
  }

  reset(): void {
    this.script.length = 0;
    this.requests.length = 0;
    this.responder = () => ({ kind: 'text', text: 'Hello from the fake model.' });
  }

  /** The last user message of a request (what the caller said). */
  static lastUser(request: ChatRequest): string {
    return [...(request.body.messages ?? [])].reverse().find((m) => m.role === 'user')?.content ?? '';
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const match = /^\/(?:([\w-]+)\/)?v1\/chat\/completions$/.exec((req.url ?? '').split('?')[0]);
    if (req.method !== 'POST' || !match) return this.error(res, 404, 'Unknown path');
    let body: ChatRequest['body'];
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return this.error(res, 400, 'We could not parse the JSON body of your request.');
    }
    const request: ChatRequest = { prefix: match[1] ?? '', body, authorization: req.headers.authorization, receivedAt: Date.now() };
    this.requests.push(request);
    res.on('close', () => {
      request.closedAt = Date.now();
      request.aborted = !res.writableFinished;
    });
    const behaviour = this.script.shift() ?? this.responder(request);
    request.behaviour = behaviour.kind;
    await this.play(behaviour, body.stream === true, req, res);
  }

  private async play(b: Behaviour, stream: boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if ('delayMs' in b && b.delayMs) await sleepUnlessClosed(b.delayMs, res);
    if (res.destroyed) return;
    const id = `chatcmpl-fake${++this.counter}`;
    switch (b.kind) {
      case 'hang':
        return;
      case 'error':
        return this.error(res, b.status, b.message ?? `fake error ${b.status}`, b.headers);
      case 'malformed':
        if (!stream) {
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end('{"id": "chatcmpl-broken", "choices": [{"message": ');
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.end('data: {"id": "chatcmpl-broken", "choices": [{"delta": {"content": "Hel\n\n');
      case 'text':
        if (!stream) return this.json(res, completion(id, b.text, undefined));
        return this.streamText(res, id, b.text, b.chunkSize ?? 4, b.chunkDelayMs ?? 0);
      case 'tools': {
        const calls = b.calls.map((c, i) => ({
          id: `call_${id}_${i}`,
          type: 'function' as const,
          function: { name: c.name, arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments) },
        }));
        if (!stream) return this.json(res, completion(id, b.text ?? null, calls));
        return this.streamTools(res, id, b.text, calls);
      }
      case 'cut': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        send(res, chunk(id, { role: 'assistant', content: '' }, null));
        const sent = b.text.slice(0, b.afterChars);
        for (const piece of pieces(sent, 4)) send(res, chunk(id, { content: piece }, null));
        await sleepUnlessClosed(30, res);
        if (b.how === 'end') return void res.end();
        return void req.socket.destroy();
      }
    }
  }

  private async streamText(res: ServerResponse, id: string, text: string, size: number, delayMs: number): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    send(res, chunk(id, { role: 'assistant', content: '' }, null));
    for (const piece of pieces(text, size)) {
      if (delayMs) await sleepUnlessClosed(delayMs, res);
      if (res.destroyed) return;
      send(res, chunk(id, { content: piece }, null));
    }
    send(res, chunk(id, {}, 'stop'));
    res.end('data: [DONE]\n\n');
  }

  private streamTools(res: ServerResponse, id: string, text: string | undefined, calls: { id: string; function: { name: string; arguments: string } }[]): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    send(res, chunk(id, { role: 'assistant', content: text ? '' : null }, null));
    for (const piece of text ? pieces(text, 6) : []) send(res, chunk(id, { content: piece }, null));
    calls.forEach((call, index) => {
      send(res, chunk(id, { tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }, null));
      // Arguments arrive in fragments, as real servers send them.
      for (const piece of pieces(call.function.arguments, 7)) send(res, chunk(id, { tool_calls: [{ index, function: { arguments: piece } }] }, null));
    });
    send(res, chunk(id, {}, 'tool_calls'));
    res.end('data: [DONE]\n\n');
  }

  private json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private error(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
    const type = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ error: { message, type, param: null, code: status === 429 ? 'rate_limit_exceeded' : null } }));
  }
}

function completion(id: string, content: string | null, toolCalls: unknown[] | undefined) {
  return {
    id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'fake-model',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
        logprobs: null,
        finish_reason: toolCalls ? 'tool_calls' : 'stop',
      },
    ],
    usage: { prompt_tokens: 50, completion_tokens: 10, total_tokens: 60 },
  };
}

function chunk(id: string, delta: Record<string, unknown>, finish: string | null) {
  return {
    id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: 'fake-model',
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  };
}

function send(res: ServerResponse, data: unknown): void {
  if (!res.destroyed) res.write(`data: ${JSON.stringify(data)}\n\n`);
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function sleepUnlessClosed(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    res.once('close', done);
    function done() {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    }
  });
}
