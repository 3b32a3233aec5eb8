// node run.mjs: both adapters, two rounds, 50 connections for 6 s (after a 2 s warm-up); CPU time of
// the app process per request from /proc (10 ms ticks). The load generator shares the machine.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
const cpu = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const body = new URLSearchParams({ CallSid: 'CA' + 'a'.repeat(32), AccountSid: 'AC' + 'b'.repeat(32), From: '+15005550006', To: '+15005550001', CallStatus: 'in-progress', Direction: 'inbound', ApiVersion: '2010-04-01', SpeechResult: 'I need help with my bill', Confidence: '0.93' }).toString();
for (let round = 0; round < 2; round++) for (const kind of ['express', 'fastify']) {
  const port = 41000 + round * 10 + (kind === 'express' ? 0 : 1);
  const child = fork('app.mjs', [kind, String(port)]);
  await new Promise((r) => child.once('message', r));
  await autocannon({ url: `http://127.0.0.1:${port}/twilio/gather?step=1`, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, duration: 2, connections: 20 });
  const c0 = cpu(child.pid);
  const r = await autocannon({ url: `http://127.0.0.1:${port}/twilio/gather?step=1`, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, duration: 6, connections: 50 });
  const used = cpu(child.pid) - c0;
  console.log(kind, 'req/s', Math.round(r.requests.average), 'non2xx', r.non2xx, 'CPU µs/request', Math.round(used * 1000 / r.requests.total));
  child.kill();
}
