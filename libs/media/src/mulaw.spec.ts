import { describe, expect, it } from '@jest/globals';
import { encodeSample, mulawLevelDb, mulawToPcm16, MULAW_SILENCE, pcm16ToMulaw } from './mulaw.js';

describe('μ-law codec', () => {
  it('matches G.711 reference points', () => {
    expect(mulawToPcm16(Uint8Array.from([0xff, 0x7f, 0x80, 0x00]))).toEqual(Int16Array.from([0, 0, 32124, -32124]));
    expect(encodeSample(0)).toBe(0xff);
    expect(encodeSample(32767)).toBe(0x80);
    expect(encodeSample(-32768)).toBe(0x00);
  });

  it('round-trips every code and keeps PCM within the quantisation step', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const decoded = mulawToPcm16(all);
    const again = pcm16ToMulaw(decoded);
    // 0x7f and 0xff both decode to 0; everything else survives exactly.
    for (let i = 0; i < 256; i++) if (i !== 0x7f) expect(again[i]).toBe(i);
    for (const s of [-30000, -1000, -5, 0, 7, 999, 12345, 32000]) {
      const back = mulawToPcm16(pcm16ToMulaw(Int16Array.from([s])))[0];
      expect(Math.abs(back - s)).toBeLessThanOrEqual(Math.max(8, Math.abs(s) * 0.07));
    }
  });

  it('measures frame level in dBFS', () => {
    expect(mulawLevelDb(Buffer.alloc(160, MULAW_SILENCE))).toBe(-120);
    const tone = pcm16ToMulaw(Int16Array.from({ length: 160 }, (_, i) => Math.round(16384 * Math.sin((2 * Math.PI * 440 * i) / 8000))));
    expect(mulawLevelDb(tone)).toBeGreaterThan(-10);
    expect(mulawLevelDb(tone)).toBeLessThan(-7);
  });
});
