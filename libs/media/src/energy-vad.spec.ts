import { describe, expect, it } from '@jest/globals';
import { EnergyVad, type VadEvent } from './energy-vad.js';

const LOUD = -20;
const QUIET = -70;

function run(vad: EnergyVad, levels: number[], from = 0): { events: VadEvent[]; end: number } {
  const events: VadEvent[] = [];
  let t = from;
  for (const level of levels) {
    const e = vad.push(level, t);
    if (e) events.push(e);
    t += 20;
  }
  return { events, end: t };
}

const frames = (ms: number, level: number) => Array.from({ length: ms / 20 }, () => level);

describe('EnergyVad', () => {
  const options = { thresholdDb: -45, minSpeechMs: 200, endSilenceMs: 600 };

  it('confirms speech only after the minimum speech, dated from its onset', () => {
    const vad = new EnergyVad(options);
    const { events } = run(vad, [...frames(400, QUIET), ...frames(180, LOUD)]);
    expect(events).toEqual([]);
    const more = run(vad, frames(20, LOUD), 580);
    expect(more.events).toEqual([{ type: 'speech-start', onsetMs: 400, atMs: 580 }]);
  });

  it('ignores clicks and short bursts', () => {
    const vad = new EnergyVad(options);
    const { events } = run(vad, [...frames(100, LOUD), ...frames(200, QUIET), ...frames(100, LOUD), ...frames(1000, QUIET)]);
    expect(events).toEqual([]);
  });

  it('ends the turn after the configured silence, not before', () => {
    const vad = new EnergyVad(options);
    const { events, end } = run(vad, [...frames(1000, LOUD), ...frames(580, QUIET)]);
    expect(events.map((e) => e.type)).toEqual(['speech-start']);
    const last = run(vad, frames(20, QUIET), end);
    expect(last.events).toEqual([{ type: 'speech-end', lastVoicedMs: 1000, atMs: 1580 }]);
  });

  it('ends the turn on a clock gap (missing frames) too', () => {
    const vad = new EnergyVad(options);
    run(vad, frames(400, LOUD));
    expect(vad.addSilence(700, 1100)).toMatchObject({ type: 'speech-end' });
  });

  it('does not take steady line noise above the threshold for speech', () => {
    const vad = new EnergyVad({ ...options, thresholdDb: -60 });
    const noisy = run(vad, frames(3000, -55)); // noise floor learns itself while quiet
    expect(noisy.events.length).toBeLessThanOrEqual(1);
    vad.reset();
    const speech = run(vad, frames(400, -20), noisy.end);
    expect(speech.events.map((e) => e.type)).toEqual(['speech-start']);
  });
});
