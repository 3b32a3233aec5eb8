import { describe, expect, it } from '@jest/globals';
import { AudioRing } from './audio-ring.js';

describe('AudioRing', () => {
  it('keeps the newest bytes in order and counts what it dropped', () => {
    const ring = new AudioRing(5);
    ring.write(Buffer.from([1, 2, 3]));
    ring.write(Buffer.from([4, 5, 6, 7]));
    expect([...ring.read()]).toEqual([3, 4, 5, 6, 7]);
    expect(ring.dropped).toBe(2);
    ring.write(Buffer.from([8, 9, 10, 11, 12, 13]));
    expect([...ring.read()]).toEqual([9, 10, 11, 12, 13]);
    ring.clear(true);
    expect(ring.length).toBe(0);
    expect(ring.read().length).toBe(0);
  });
});
