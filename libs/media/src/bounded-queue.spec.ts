import { describe, expect, it } from '@jest/globals';
import { BoundedQueue } from './bounded-queue.js';

describe('BoundedQueue', () => {
  it('drops the oldest item when full and counts it', () => {
    const q = new BoundedQueue<number>(3);
    for (let i = 1; i <= 5; i++) q.push(i);
    expect(q.toArray()).toEqual([3, 4, 5]);
    expect(q.dropped).toBe(2);
    expect(q.shift()).toBe(3);
    expect(q.length).toBe(2);
    expect(q.clear()).toBe(2);
    expect(q.shift()).toBeUndefined();
  });

  it('rejects a non-positive capacity', () => {
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
  });
});
