import { describe, expect, it } from '@jest/globals';
import { upsample2xSinc } from './wav.js';

describe('upsample2xSinc', () => {
  const tone = (hz: number, rate: number, n: number, amp = 8000) => Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate)));
  const rms = (x: Int16Array, from: number, to: number) => Math.sqrt(x.slice(from, to).reduce((s, v) => s + v * v, 0) / (to - from));

  it('doubles the rate, keeping a speech-band tone at its level and shape', () => {
    const input = tone(1000, 8000, 800);
    const out = upsample2xSinc(input);
    expect(out).toHaveLength(1600);
    const ideal = tone(1000, 16000, 1600);
    // Away from the edges the interpolated tone matches the ideal 16 kHz tone within a few %.
    let err = 0;
    for (let i = 100; i < 1500; i++) err += (out[i] - ideal[i]) ** 2;
    expect(Math.sqrt(err / 1400) / rms(ideal, 100, 1500)).toBeLessThan(0.05);
  });

  it('is deterministic (the same audio always decodes the same way) and clamps at full scale', () => {
    const input = tone(300, 8000, 400, 32767);
    expect(upsample2xSinc(input)).toEqual(upsample2xSinc(input));
    expect(Math.max(...upsample2xSinc(input))).toBeLessThanOrEqual(32767);
  });
});
