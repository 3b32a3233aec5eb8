import { describe, expect, it } from '@jest/globals';
import { MetricsService } from './metrics.service.js';
import { gatherTurnTimings, relayTurnTimings, streamTurnTimings } from './turn-timings.js';

const call = { callSid: 'CA1', direction: 'inbound' as const, mode: 'stream' as const, agentName: 'default', startedAt: new Date().toISOString() };
const at = new Date().toISOString();

async function value(metrics: MetricsService, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l)).reduce((sum, v) => sum + v.value, 0);
}

describe('MetricsService.observeCallWrite', () => {
  it('counts each agent turn with timings once per stage, and what the events say happened', async () => {
    const metrics = new MetricsService('api', true);
    metrics.observeCallWrite({
      call,
      turns: [
        { callSid: 'CA1', seq: 1, speaker: 'caller', text: 'hi', startedAt: at },
        { callSid: 'CA1', seq: 2, speaker: 'agent', text: 'hello', startedAt: at, timings: { total: 900, recognition: 300, queue: 5 } },
        { callSid: 'CA1', seq: 3, speaker: 'agent', text: 'greeting', startedAt: at },
      ],
      events: [
        { callSid: 'CA1', type: 'barge_in', dedupeKey: 'b1', data: { reactionMs: 220 }, at },
        { callSid: 'CA1', type: 'no_input', dedupeKey: 'm1', at },
        { callSid: 'CA1', type: 'status', dedupeKey: 'voice:ringing', at },
        { callSid: 'CA1', type: 'status', dedupeKey: 'status-ringing-1', at },
      ],
      status: { callSid: 'CA1', status: 'completed', at },
    });
    expect(await value(metrics, 'switchboard_turn_stage_seconds', { mode: 'stream', stage: 'total' })).toBeGreaterThan(0);
    const histogram = await metrics.registry.getSingleMetric('switchboard_turn_stage_seconds')!.get();
    const counts = (histogram.values as Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>).filter((v) => v.metricName === 'switchboard_turn_stage_seconds_count');
    expect(counts.map((c) => [c.labels.stage, c.value]).sort()).toEqual([['queue', 1], ['recognition', 1], ['total', 1]]);
    expect(await value(metrics, 'switchboard_barge_ins_total', { mode: 'stream' })).toBe(1);
    expect(await value(metrics, 'switchboard_missed_turns_total', { mode: 'stream', reason: 'no_input' })).toBe(1);
    expect(await value(metrics, 'switchboard_calls_started_total', { mode: 'stream' })).toBe(1);
    expect(await value(metrics, 'switchboard_calls_ended_total', { status: 'completed' })).toBe(1);
  });

  it('ignores stages and modes it does not know (labels stay bounded)', async () => {
    const metrics = new MetricsService('api', true);
    metrics.observeTurnStage('gather', 'CA0123', 1);
    metrics.observeTurnStage('bogus' as never, 'total', 1);
    expect((await metrics.exposition()).includes('CA0123')).toBe(false);
    expect(await value(metrics, 'switchboard_turn_stage_seconds')).toBe(0);
  });

  it('records nothing when disabled', async () => {
    const metrics = new MetricsService('worker', false);
    metrics.observeWebhook('/twilio/voice', 200, 0.01);
    metrics.countBargeIn('relay');
    metrics.observeCallWrite({ call, status: { callSid: 'CA1', status: 'completed', at } });
    expect(await value(metrics, 'switchboard_barge_ins_total')).toBe(0);
    expect(await value(metrics, 'switchboard_calls_ended_total')).toBe(0);
  });

  it('labels every series with the app and exports no gauge named like a counter', async () => {
    const metrics = new MetricsService('worker', true);
    metrics.countBargeIn('relay');
    const text = await metrics.exposition();
    expect(text).toContain('switchboard_barge_ins_total{mode="relay",app="worker"} 1');
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) if (m[1].endsWith('_total')) expect(m[2]).toBe('counter');
  });
});

describe('turn timings', () => {
  it('gather: the total and the worker stages', () => {
    expect(gatherTurnTimings(812.4, { queue: 3, model_first_token: 40, model_total: 41 })).toEqual({ queue: 3, model_first_token: 40, model_total: 41, total: 812 });
  });

  it('stream: stages from the marks; a stage never reached is absent', () => {
    expect(streamTurnTimings({ speechEnd: 1000, recognized: 1300, firstText: 1400, firstAudio: 1500 }, { queue: 5, model_total: 90 })).toEqual({
      queue: 5, model_total: 90, total: 500, recognition: 300, synthesis_first_audio: 100,
    });
    expect(streamTurnTimings({ speechEnd: 1000, recognized: 1300 }, undefined)).toEqual({ recognition: 300 });
  });

  it('relay: prompt to first token', () => {
    expect(relayTurnTimings({ prompt: 1000, firstToken: 1250 }, undefined)).toEqual({ total: 250 });
  });
});
