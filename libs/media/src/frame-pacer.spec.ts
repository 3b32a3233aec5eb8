import { describe, expect, it } from '@jest/globals';
import { FramePacer, PacingClock, type PacerSink } from './frame-pacer.js';

function setup(leadMs = 100) {
  let now = 0;
  const sent: string[] = [];
  const sink: PacerSink = { sendMedia: (f) => sent.push(`media:${f.length}`), sendMark: (m) => sent.push(`mark:${m}`) };
  const clock = new PacingClock(1_000_000); // ticked by hand below
  const pacer = new FramePacer(sink, { leadMs, maxQueuedFrames: 50, now: () => now }, clock);
  return { pacer, sent, clock, advance: (ms: number) => ((now += ms), pacer.tick()) };
}

describe('FramePacer', () => {
  it('sends 20 ms frames no further ahead than the lead, with marks in line', () => {
    const { pacer, sent, advance, clock } = setup(100);
    pacer.enqueueAudio(Buffer.alloc(160 * 10 + 80, 1));
    pacer.enqueueMark('a1.0');
    expect(sent).toEqual(Array(5).fill('media:160')); // 100 ms lead
    advance(40);
    expect(sent.length).toBe(7);
    advance(1000);
    expect(sent.slice(-2)).toEqual(['media:160', 'mark:a1.0']); // the padded last frame, then its mark
    expect(sent.filter((s) => s.startsWith('media')).length).toBe(11);
    expect(pacer.idle).toBe(true);
    clock.remove(pacer);
  });

  it('clear drops everything unsent and reports it', () => {
    const { pacer, sent } = setup(40);
    pacer.enqueueAudio(Buffer.alloc(160 * 10, 1));
    expect(pacer.clear()).toBe(8);
    expect(sent.length).toBe(2);
    expect(pacer.idle).toBe(true);
  });

  it('bounds its queue, dropping the oldest audio', () => {
    const { pacer } = setup(20);
    pacer.enqueueAudio(Buffer.alloc(160 * 80, 1));
    expect(pacer.dropped).toBe(80 - 50); // queued before the first tick sent anything
    pacer.dispose();
  });
});
