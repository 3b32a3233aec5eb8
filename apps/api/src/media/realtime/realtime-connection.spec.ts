import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WebSocketServer, type WebSocket } from 'ws';
import { RealtimeConnection, type RealtimeFailure, type ServerEvent } from './realtime-connection.js';

let wss: WebSocketServer;
let base: string;
const upgrades: IncomingMessage[] = [];
const peers: WebSocket[] = [];
const received: string[] = [];

beforeAll(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws, req) => {
    upgrades.push(req);
    peers.push(ws);
    ws.on('message', (d) => received.push(String(d)));
  });
  await new Promise((r) => wss.once('listening', r));
  base = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => wss.close(() => r())));

function connect(url: string) {
  const events: ServerEvent[] = [];
  const malformed: string[] = [];
  const failures: RealtimeFailure[] = [];
  let opened = false;
  const conn = new RealtimeConnection({ url, model: 'gpt-realtime', apiKey: 'sk-test', connectTimeoutMs: 2000 }, {
    open: () => (opened = true),
    event: (e) => events.push(e),
    malformed: (r) => malformed.push(r),
    failed: (f) => failures.push(f),
  });
  return { conn, events, malformed, failures, opened: () => opened };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

describe('RealtimeConnection', () => {
  it('passes the model as ?model= (keeping the URL’s own query), authenticates, and sends what was queued while connecting', async () => {
    const c = connect(`${base}/openai/v1/realtime?api-version=preview`);
    c.conn.send({ type: 'response.create', response: {} });
    await until(c.opened);
    const url = new URL(upgrades.at(-1)!.url!, 'http://x');
    expect(url.pathname).toBe('/openai/v1/realtime');
    expect(url.searchParams.get('model')).toBe('gpt-realtime');
    expect(url.searchParams.get('api-version')).toBe('preview');
    expect(upgrades.at(-1)!.headers.authorization).toBe('Bearer sk-test');
    await until(() => received.includes('{"type":"response.create","response":{}}'));
    c.conn.appendAudio(Buffer.from([0xff, 0x7f]).toString('base64'));
    await until(() => received.includes('{"type":"input_audio_buffer.append","audio":"/38="}'));
    c.conn.close();
  });

  it('hands on events, reports malformed messages, and reports a peer closing (but not its own close)', async () => {
    const c = connect(`${base}/v1/realtime`);
    await until(c.opened);
    const peer = peers.at(-1)!;
    peer.send('{"type":"session.created","session":{}}');
    peer.send('not json');
    peer.send(Buffer.from([1, 2]), { binary: true });
    peer.send('{"no":"type"}');
    await until(() => c.malformed.length === 3 && c.events.length === 1);
    expect(c.events[0].type).toBe('session.created');
    peer.close(1011, 'bye');
    await until(() => c.failures.length === 1);
    expect(c.failures[0]).toEqual({ kind: 'closed', code: 1011, detail: 'bye' });

    const d = connect(`${base}/v1/realtime`);
    await until(d.opened);
    d.conn.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(d.failures).toEqual([]);
  });

  it('reports an unreachable endpoint', async () => {
    const c = connect('ws://127.0.0.1:1/v1/realtime');
    await until(() => c.failures.length === 1);
    expect(c.failures[0].kind).toBe('unreachable');
  });
});
