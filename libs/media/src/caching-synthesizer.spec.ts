import { describe, expect, it } from '@jest/globals';
import { CachingSynthesizer } from './caching-synthesizer.js';
import type { SpeechSynthesizer, SynthesisVoice } from './speech.types.js';

const voice: SynthesisVoice = { language: 'en-US' };

/** Counts syntheses; each takes `delayMs` and honours abort like a real provider. */
class CountingSynthesizer implements SpeechSynthesizer {
  readonly name = 'counting';
  calls: string[] = [];
  aborted = 0;
  failNext = false;
  constructor(private readonly delayMs = 20) {}
  synthesize(text: string, _voice: SynthesisVoice, signal: AbortSignal): Promise<Buffer> {
    this.calls.push(text);
    const fail = this.failNext;
    this.failNext = false;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (fail ? reject(new Error('tool failed')) : resolve(Buffer.alloc(text.length * 100, 0x55))), this.delayMs);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        this.aborted++;
        reject(new DOMException('aborted', 'AbortError'));
      }, { once: true });
    });
  }
}

const live = () => new AbortController().signal;

describe('CachingSynthesizer', () => {
  it('synthesises a sentence once and serves it from memory afterwards', async () => {
    const inner = new CountingSynthesizer();
    const cache = new CachingSynthesizer(inner, { maxBytes: 1 << 20 });
    const a = await cache.synthesize('Thank you for calling.', voice, live());
    const b = await cache.synthesize('Thank you for calling.', voice, live());
    expect(b).toBe(a);
    expect(inner.calls).toEqual(['Thank you for calling.']);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1 });
    await cache.synthesize('Thank you for calling.', { language: 'en-GB' }, live());
    expect(inner.calls).toHaveLength(2); // another voice is another entry
  });

  it('evicts the least recently used sentences beyond its byte bound', async () => {
    const inner = new CountingSynthesizer(1);
    const cache = new CachingSynthesizer(inner, { maxBytes: 2500 }); // 10-char sentences: 1000 bytes each
    for (const t of ['sentence 1', 'sentence 2']) await cache.synthesize(t, voice, live());
    await cache.synthesize('sentence 1', voice, live()); // now the most recent
    await cache.synthesize('sentence 3', voice, live()); // evicts sentence 2
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 2000 });
    await cache.synthesize('sentence 1', voice, live());
    expect(inner.calls.filter((t) => t === 'sentence 1')).toHaveLength(1);
    await cache.synthesize('sentence 2', voice, live());
    expect(inner.calls.filter((t) => t === 'sentence 2')).toHaveLength(2);
  });

  it('shares one synthesis between concurrent callers; one giving up does not cancel it for the others', async () => {
    const inner = new CountingSynthesizer(50);
    const cache = new CachingSynthesizer(inner, { maxBytes: 1 << 20 });
    const quitter = new AbortController();
    const first = cache.synthesize('Please hold.', voice, quitter.signal);
    const second = cache.synthesize('Please hold.', voice, live());
    quitter.abort();
    await expect(first).rejects.toThrow(/abort/i);
    await expect(second).resolves.toHaveLength(1200);
    expect(inner.calls).toHaveLength(1);
    expect(inner.aborted).toBe(0);
  });

  it('aborts the synthesis (and its child process) once every caller gave up, and caches nothing', async () => {
    const inner = new CountingSynthesizer(200);
    const cache = new CachingSynthesizer(inner, { maxBytes: 1 << 20 });
    const a = new AbortController();
    const b = new AbortController();
    const pa = cache.synthesize('Goodbye!', voice, a.signal);
    const pb = cache.synthesize('Goodbye!', voice, b.signal);
    a.abort();
    b.abort();
    await expect(pa).rejects.toThrow();
    await expect(pb).rejects.toThrow();
    expect(inner.aborted).toBe(1);
    expect(cache.stats().entries).toBe(0);
    await cache.synthesize('Goodbye!', voice, live()); // a fresh request synthesises again
    expect(inner.calls).toHaveLength(2);
  });

  it('does not cache failures, and warm() fills the cache reporting failures', async () => {
    const inner = new CountingSynthesizer(1);
    const cache = new CachingSynthesizer(inner, { maxBytes: 1 << 20 });
    inner.failNext = true;
    await expect(cache.synthesize('Hello.', voice, live())).rejects.toThrow('tool failed');
    await expect(cache.synthesize('Hello.', voice, live())).resolves.toHaveLength(600);
    const result = await cache.warm(['One.', 'Two.', 'One.', 'Hello.'], voice, live());
    expect(result).toEqual({ warmed: 3, failed: 0 });
    const before = inner.calls.length;
    await cache.synthesize('Two.', voice, live());
    expect(inner.calls.length).toBe(before);
  });
});
