export { MetricsModule } from './metrics.module.js';
export {
  MetricsService,
  METRICS_APP,
  METRICS_ENABLED,
  type MetricsApp,
  type CallWriteBatch,
  type GaugeReader,
  type JobOutcome,
  type MissReason,
  type ModelOutcome,
  type SocketKind,
} from './metrics.service.js';
export { gatherTurnTimings, relayTurnTimings, streamTurnTimings, type WorkerTimings } from './turn-timings.js';
