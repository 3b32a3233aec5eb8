/**
 * Preloaded into the api process by the media benchmarks (`node --import ./bench/media-probe.mjs
 * dist/apps/api/src/main.js`): measures the event loop, frame handling and resources from inside
 * the process under load and answers the bench over IPC. Bench-only; never loaded in production.
 */
import { createHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const frames = createHistogram();
const detectToClear = createHistogram();
let calls;

/** Wraps a prototype method, keeping the decorator metadata Nest reads from it. */
function wrap(proto, name, histogram, when = () => true) {
  const original = proto[name];
  const wrapped = function (...args) {
    if (!when(args)) return original.apply(this, args);
    const t0 = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      histogram.record(Math.max(1, Math.round((performance.now() - t0) * 1e6)));
    }
  };
  for (const key of Reflect.getMetadataKeys?.(original) ?? []) Reflect.defineMetadata(key, Reflect.getMetadata(key, original), wrapped);
  proto[name] = wrapped;
}

await import('reflect-metadata');
const { MediaGateway } = await import('../dist/apps/api/src/media/media.gateway.js');
const { StreamCall } = await import('../dist/apps/api/src/media/stream-call.js');
const { StreamCallsService } = await import('../dist/apps/api/src/media/stream-calls.service.js');
const { liveChildProcesses } = await import('../dist/libs/media/src/index.js');
wrap(MediaGateway.prototype, 'onFrame', frames);
// speech-start → interrupt → `clear` runs synchronously inside onVad: its duration is detection → clear.
wrap(StreamCall.prototype, 'onVad', detectToClear, (args) => args[0]?.type === 'speech-start');
const bind = StreamCallsService.prototype.bind;
StreamCallsService.prototype.bind = function (...args) {
  calls = this;
  return bind.apply(this, args);
};

const ms = (h, q) => (h.count ? h.percentile(q) / 1e6 : 0);

process.on('message', (message) => {
  if (message === 'reset') {
    loop.reset();
    frames.reset();
    detectToClear.reset();
    return process.send({ type: 'reset' });
  }
  if (message === 'sample') {
    globalThis.gc?.();
    const mem = process.memoryUsage();
    process.send({
      type: 'sample',
      loopP50: loop.percentile(50) / 1e6,
      loopP99: loop.percentile(99) / 1e6,
      loopMax: loop.max / 1e6,
      frames: frames.count,
      frameP50: ms(frames, 50),
      frameP99: ms(frames, 99),
      frameMax: frames.count ? frames.max / 1e6 : 0,
      detectToClearP50: ms(detectToClear, 50),
      detectToClearP99: ms(detectToClear, 99),
      bargeIns: detectToClear.count,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      handles: process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length,
      children: liveChildProcesses(),
      liveCalls: calls?.size ?? 0,
    });
  }
});
