import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { StallClock } from './stall-clock.js';

describe('StallClock', () => {
  let expired: { what: string; ms: number }[];
  let clock: StallClock;

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: [] });
    expired = [];
    clock = new StallClock((what, ms) => expired.push({ what, ms }));
  });
  afterEach(() => {
    clock.clear();
    jest.useRealTimers();
  });

  it('fires once the budget has passed without news', () => {
    clock.expect('answer', 2000);
    jest.advanceTimersByTime(1999);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual([{ what: 'answer', ms: 2000 }]);
  });

  it('a running clock is not moved unless restarted', () => {
    clock.expect('answer', 2000);
    jest.advanceTimersByTime(1500);
    clock.expect('something else', 2000);
    jest.advanceTimersByTime(500);
    expect(expired).toEqual([{ what: 'answer', ms: 2000 }]);
  });

  it('restarting pushes the deadline back (each audio delta) and fires only after the last push', () => {
    clock.expect('answer', 2000);
    for (let i = 0; i < 30; i++) {
      jest.advanceTimersByTime(100);
      clock.expect('rest of the answer', 2000, true);
    }
    jest.advanceTimersByTime(1999);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual([{ what: 'rest of the answer', ms: 2000 }]);
  });

  it('restarting with a shorter budget brings the deadline forward', () => {
    clock.expect('answer', 2000);
    clock.expect('rest of the answer', 500, true);
    jest.advanceTimersByTime(500);
    expect(expired).toEqual([{ what: 'rest of the answer', ms: 500 }]);
  });

  it('clear stops it, and it can be started again', () => {
    clock.expect('answer', 2000);
    clock.clear();
    jest.advanceTimersByTime(5000);
    expect(expired).toEqual([]);
    clock.expect('answer', 1000);
    jest.advanceTimersByTime(1000);
    expect(expired).toHaveLength(1);
  });
});
