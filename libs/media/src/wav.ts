/** Minimal RIFF/WAVE helpers for the offline speech tools (16-bit mono PCM only). */

/** A 16-bit mono WAV file of `pcm` at `sampleRate`. */
export function pcm16ToWav(pcm: Int16Array, sampleRate: number): Buffer {
  const data = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/**
 * 8 kHz → 16 kHz by linear interpolation. Deterministic on purpose (sox dithers, which makes
 * a grammar-constrained recogniser flip between answers on the same audio).
 */
export function upsample2x(pcm: Int16Array): Int16Array {
  const out = new Int16Array(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) {
    const a = pcm[i];
    const b = i + 1 < pcm.length ? pcm[i + 1] : a;
    out[2 * i] = a;
    out[2 * i + 1] = (a + b) >> 1;
  }
  return out;
}

/** Half-band interpolation filter for 8 → 16 kHz: a Blackman-windowed sinc, odd taps only (even taps are 0 but the centre). */
const HALF_BAND = (() => {
  const half = 16; // taps per side of the odd phase: 64-tap filter, stopband well below μ-law's noise
  const taps = new Float64Array(2 * half);
  for (let k = 0; k < 2 * half; k++) {
    const n = 2 * (k - half) + 1; // odd offsets −(2·half−1) … 2·half−1, in 16 kHz samples
    const x = (Math.PI * n) / 2;
    const window = 0.42 + 0.5 * Math.cos((Math.PI * n) / (2 * half + 1)) + 0.08 * Math.cos((2 * Math.PI * n) / (2 * half + 1));
    taps[k] = (Math.sin(x) / x) * window;
  }
  return taps;
})();

/**
 * 8 kHz → 16 kHz with a windowed-sinc half-band filter, plus ±1 LSB of deterministic dither.
 * The 16 kHz en-us model expects energy up to 6.8 kHz; linear interpolation fills 4–8 kHz with
 * a mirror image of the speech, and pure silence there drives the log filterbank to extremes.
 * Measured on the phrase set (bench:media:intents), this raised intent accuracy by ~10 points.
 * The dither is a fixed pseudo-random sequence, so the same audio always decodes the same way.
 */
export function upsample2xSinc(pcm: Int16Array): Int16Array {
  const out = new Int16Array(pcm.length * 2);
  const half = HALF_BAND.length / 2;
  let seed = 0x2545f491;
  for (let i = 0; i < pcm.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    out[2 * i] = clamp16(pcm[i] + ((seed >>> 16) % 3) - 1);
    let acc = 0;
    // Odd output sample 2i+1 sits between inputs i and i+1.
    for (let k = 0; k < 2 * half; k++) {
      const j = i + (k - half) + 1;
      if (j >= 0 && j < pcm.length) acc += pcm[j] * HALF_BAND[2 * half - 1 - k];
    }
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    out[2 * i + 1] = clamp16(Math.round(acc) + ((seed >>> 16) % 3) - 1);
  }
  return out;
}

function clamp16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}
