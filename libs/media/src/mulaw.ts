/**
 * G.711 μ-law ⇄ 16-bit linear PCM, the only audio format Twilio Media Streams carry
 * (8 kHz mono, 160 bytes = 20 ms per frame). Decoding is a table lookup; the energy table
 * lets the VAD measure a frame without decoding it.
 */

const BIAS = 0x84;
const CLIP = 32635;

/** μ-law byte → PCM16 sample. */
export const MULAW_TO_PCM = new Int16Array(256);
/** μ-law byte → squared PCM16 sample (for frame energy without a decode). */
const MULAW_SQUARE = new Float64Array(256);

for (let i = 0; i < 256; i++) {
  const u = ~i & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
  MULAW_TO_PCM[i] = sign ? -magnitude : magnitude;
  MULAW_SQUARE[i] = MULAW_TO_PCM[i] * MULAW_TO_PCM[i];
}

/** The μ-law byte of digital silence (Twilio pads with it). */
export const MULAW_SILENCE = 0xff;

/** Encodes one PCM16 sample as μ-law. */
export function encodeSample(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Decodes μ-law bytes to PCM16 samples. */
export function mulawToPcm16(mulaw: Uint8Array): Int16Array {
  const out = new Int16Array(mulaw.length);
  for (let i = 0; i < mulaw.length; i++) out[i] = MULAW_TO_PCM[mulaw[i]];
  return out;
}

/** Encodes PCM16 samples as μ-law bytes. */
export function pcm16ToMulaw(pcm: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = encodeSample(pcm[i]);
  return out;
}

/** RMS level of a μ-law frame in dBFS (−∞ for digital silence is clamped to −120). */
export function mulawLevelDb(mulaw: Uint8Array): number {
  if (mulaw.length === 0) return -120;
  let sum = 0;
  for (let i = 0; i < mulaw.length; i++) sum += MULAW_SQUARE[mulaw[i]];
  const rms = Math.sqrt(sum / mulaw.length);
  return rms < 1 ? -120 : 20 * Math.log10(rms / 32768);
}
