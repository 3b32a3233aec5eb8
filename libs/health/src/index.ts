export { HealthService, HEARTBEAT_TTL_MS, type CheckResult, type Readiness } from './health.service.js';
export { HeartbeatService } from './heartbeat.service.js';
export { snapshotQueue, type QueueSnapshot } from './queue-health.js';
