/**
 * Baseline of bench/realtime-bridge.bench.ts: the least a Twilio ⇄ Realtime bridge can do — a
 * bare `ws` relay with the same hops and message shapes as switchboard's bridge (parse each message,
 * forward caller audio as `input_audio_buffer.append`, model audio as Twilio `media` + a mark,
 * `speech_started` as `clear`), and nothing else: no signature check, no session, no transcript.
 * Usage: node --import ./bench/realtime-probe.mjs bench/realtime-relay-baseline.mjs PORT MODEL_URL
 */
import { createServer } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';

const [port, modelUrl] = process.argv.slice(2);
const server = createServer((_req, res) => res.end('ok'));
const wss = new WebSocketServer({ server, path: '/twilio/media' });
wss.on('connection', (twilio) => {
  let streamSid;
  let model;
  let sent = 0;
  twilio.on('message', (data) => {
    const m = JSON.parse(String(data));
    if (m.event === 'start') {
      streamSid = m.start.streamSid;
      model = new WebSocket(`${modelUrl}?model=bench`, { headers: { authorization: 'Bearer bench' }, perMessageDeflate: false });
      model.on('open', () => model.send(JSON.stringify({ type: 'response.create', response: { metadata: { purpose: 'greeting' } } })));
      model.on('message', (raw) => {
        const e = JSON.parse(String(raw));
        if (e.type === 'response.output_audio.delta') {
          sent += 100;
          twilio.send(`{"event":"media","streamSid":"${streamSid}","media":{"payload":"${e.delta}"}}`);
          twilio.send(JSON.stringify({ event: 'mark', streamSid, mark: { name: `m.${sent}` } }));
        } else if (e.type === 'input_audio_buffer.speech_started') {
          twilio.send(JSON.stringify({ event: 'clear', streamSid }));
        }
      });
      model.on('error', () => undefined);
    } else if (m.event === 'media' && model?.readyState === WebSocket.OPEN) {
      model.send(`{"type":"input_audio_buffer.append","audio":"${m.media.payload}"}`);
    } else if (m.event === 'stop') {
      model?.close();
    }
  });
  twilio.on('close', () => model?.close());
});
server.listen(Number(port), '127.0.0.1');
