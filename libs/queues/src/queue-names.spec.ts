import { describe, expect, it } from '@jest/globals';
import { AGENT_TURN_WORKER_OPTIONS, JobIds } from './queue-names.js';

describe('JobIds', () => {
  it('are deterministic, so the same turn enqueued twice is one job', () => {
    expect(JobIds.agentTurn('CA123', 4)).toBe(JobIds.agentTurn('CA123', 4));
    expect(JobIds.agentTurn('CA123', 4)).not.toBe(JobIds.agentTurn('CA123', 5));
  });

  it('never contain ":" (BullMQ rejects it in custom ids)', () => {
    expect(JobIds.agentTurn('CA:1', 2)).toBe('turn-CA_1-2');
    expect(JobIds.transcript('CA1', 'status:completed:3')).toBe('tx-CA1-status_completed_3');
    expect(JobIds.postCall('a:b')).not.toContain(':');
  });
});

describe('AGENT_TURN_WORKER_OPTIONS', () => {
  it('recover a dead worker’s turn well inside the caller’s 12 s ceiling', () => {
    const worstCaseRecoveryMs = AGENT_TURN_WORKER_OPTIONS.lockDuration + AGENT_TURN_WORKER_OPTIONS.stalledInterval;
    expect(worstCaseRecoveryMs).toBeLessThanOrEqual(3000);
    expect(AGENT_TURN_WORKER_OPTIONS.maxStalledCount).toBe(1);
  });
});
