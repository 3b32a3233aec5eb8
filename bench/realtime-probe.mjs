/**
 * Preloaded into the process under test by bench/realtime-bridge.bench.ts (`node --import
 * ./bench/realtime-probe.mjs …`): event-loop delay, and in the api (BENCH_PROBE_API=1) the time the
 * realtime bridge spends handling the model's `speech_started` (its first act is `clear`) and the
 * number of live calls. Answers the bench over IPC. Bench-only; never loaded in production.
 */
import { createHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const speechStarted = createHistogram();
/** Handler time per frame: Twilio `media` → model (gateway handler), model audio delta → Twilio. */
const frameIn = createHistogram();
const frameOut = createHistogram();
/** Inside the api: the model's speech_started reaching the bridge → `clear` handed to Twilio's socket. */
const speechToClear = createHistogram();
let speechEntry;
let calls;
let cpuAt = process.cpuUsage();
let wallAt = performance.now();

const record = (h, t0) => h.record(Math.max(1, Math.round((performance.now() - t0) * 1e6)));

if (process.env.BENCH_PROBE_API === '1') {
  await import('reflect-metadata');
  const { RealtimeCall } = await import('../dist/apps/api/src/media/realtime/realtime-call.js');
  const { StreamCallsService } = await import('../dist/apps/api/src/media/stream-calls.service.js');
  const { MediaGateway } = await import('../dist/apps/api/src/media/media.gateway.js');
  const original = RealtimeCall.prototype.onModelEvent;
  RealtimeCall.prototype.onModelEvent = function (event) {
    const h = event?.type === 'input_audio_buffer.speech_started' ? speechStarted : event?.type === 'response.output_audio.delta' ? frameOut : undefined;
    if (!h) return original.call(this, event);
    const t0 = performance.now();
    if (h === speechStarted) speechEntry = t0;
    try {
      return original.call(this, event);
    } finally {
      speechEntry = undefined;
      record(h, t0);
    }
  };
  const { StreamSocket } = await import('../dist/apps/api/src/media/stream-socket.js');
  const sendClear = StreamSocket.prototype.sendClear;
  StreamSocket.prototype.sendClear = function () {
    const result = sendClear.call(this);
    if (speechEntry !== undefined) record(speechToClear, speechEntry);
    return result;
  };
  // The gateway's frame handler carries Nest's @SubscribeMessage metadata: keep it on the wrapper.
  const onFrame = MediaGateway.prototype.onFrame;
  const wrapped = function (ws, frame) {
    if (frame?.name !== 'media') return onFrame.call(this, ws, frame);
    const t0 = performance.now();
    try {
      return onFrame.call(this, ws, frame);
    } finally {
      record(frameIn, t0);
    }
  };
  for (const key of Reflect.getMetadataKeys(onFrame)) Reflect.defineMetadata(key, Reflect.getMetadata(key, onFrame), wrapped);
  MediaGateway.prototype.onFrame = wrapped;
  const bind = StreamCallsService.prototype.bind;
  StreamCallsService.prototype.bind = function (...args) {
    calls = this;
    return bind.apply(this, args);
  };
}

process.on('message', (message) => {
  if (message === 'reset') {
    loop.reset();
    speechStarted.reset();
    frameIn.reset();
    frameOut.reset();
    speechToClear.reset();
    cpuAt = process.cpuUsage();
    wallAt = performance.now();
    return process.send({ type: 'reset' });
  }
  if (message === 'sample') {
    const mem = process.memoryUsage();
    process.send({
      type: 'sample',
      loopP50: loop.percentile(50) / 1e6,
      loopP99: loop.percentile(99) / 1e6,
      loopMax: loop.max / 1e6,
      speechStartedP99: speechStarted.count ? speechStarted.percentile(99) / 1e6 : 0,
      speechStartedCount: speechStarted.count,
      speechToClearP99: speechToClear.count ? speechToClear.percentile(99) / 1e6 : 0,
      speechToClearMax: speechToClear.count ? speechToClear.max / 1e6 : 0,
      frameInP99: frameIn.count ? frameIn.percentile(99) / 1e6 : 0,
      frameOutP99: frameOut.count ? frameOut.percentile(99) / 1e6 : 0,
      frames: frameIn.count + frameOut.count,
      rss: mem.rss,
      // CPU time of this process over the window, as a share of one core.
      cpu: (() => {
        const used = process.cpuUsage(cpuAt);
        return (used.user + used.system) / 1000 / (performance.now() - wallAt);
      })(),
      liveCalls: calls?.size ?? 0,
    });
  }
});
